"""This process's share of the jobs: taken up at start-up, its leases renewed, jobs another
process took over let go, and the jobs of a process that died or stopped renewing taken
over.
One process on its own database holds every job, and only the first step happens.

Processes sharing the jobs also share one time: before it takes any job up, and at
every renewal, the tracker's clock is set by the database's (`CorrectedClock`), so a
host whose clock is off neither ends a job early nor keeps it past its deadline."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.jobs.events import JobLetGo
from bot.jobs.leases import JobLeases
from bot.jobs.peers import JobPeers
from bot.jobs.ports import StoreError
from bot.jobs.recovery import JobRecovery
from bot.jobs.stopping import JobStopping

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

log = logging.getLogger(__name__)

CLOCK_SKEW_WARNING = 5.0
"""Real seconds between this host's clock and the database's worth a word at start-up."""


class JobSharing:
    """Says `JobLetGo` for each job another process holds now."""

    def __init__(
        self,
        context: TrackerContext,
        *,
        leases: JobLeases,
        peers: JobPeers,
        recovery: JobRecovery,
        stopping: JobStopping,
    ) -> None:
        """`recovery` settles the jobs this process takes up; `stopping` answers peers
        asking this process to stop jobs it holds."""
        self._book = context.book
        self._clock = context.clock
        self._scheduler = context.scheduler
        self._bus = context.bus
        self._claim_batch = context.settings.claim_batch
        self._leases = leases
        self._peers = peers
        self._recovery = recovery
        self._stopping = stopping
        self._closing = False

    @property
    def shared(self) -> bool:
        return self._leases.shared

    async def start(self) -> None:
        await self._agree_on_time()
        skew = self._clock.to_real(abs(self._clock.offset))
        if skew > CLOCK_SKEW_WARNING:
            log.warning(
                "this host's clock is %.0f s off the database's; job times follow the database's",
                skew,
            )
        await self._recovery.take_up(await self._leases.claim(limit=self._claim_batch))

    async def _agree_on_time(self) -> None:
        """Read the database's time, and set the tracker's clock by it."""
        before = self._clock.base.now()
        reference = await self._leases.database_time()
        after = self._clock.base.now()
        if reference is not None:
            self._clock.agree(reference, before=before, after=after)

    async def start_sharing(self) -> None:
        """Once the tracker runs: answer peers and keep the leases."""
        if self.shared:
            await self._peers.start(self._stopping.answer)
            self._scheduler.spawn(self._keep(), name="job-leases")

    def stop_taking(self) -> None:
        """Closing: take over nothing more."""
        self._closing = True

    async def close(self) -> None:
        """Stop answering and hand every job over at once (others need not wait out the
        leases); a process that dies without this leaves them to run out instead."""
        await self._peers.close()
        if not self.shared:
            return
        try:
            await self._leases.let_go()
        except StoreError as error:
            log.warning("could not give up job leases (they run out by themselves): %s", error)

    async def _keep(self) -> None:
        """Renew every `interval`; look for jobs to take over every `claim_interval`."""
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        while True:
            await asyncio.sleep(self._leases.claim_interval)
            try:
                if loop.time() - renewed_at >= self._leases.interval * 0.99:
                    renewed_at = loop.time()
                    await self._agree_on_time()
                    held_before = {job.id for job in self._book}
                    for job_id in held_before - await self._leases.renew(held_before):
                        self._let_go(job_id)
                    await self._peers.keep_listening()
                if not self._closing:
                    await self._recovery.take_up(await self._leases.claim(limit=self._claim_batch))
            except StoreError as error:
                self._book.health.failed(error)
            except Exception:
                log.exception("renewing job leases failed; trying again")

    def _let_go(self, job_id: int) -> None:
        log.warning("job %d: another process holds it now; letting it go", job_id)
        self._book.drop(job_id)
        self._bus.publish(JobLetGo(job_id))
