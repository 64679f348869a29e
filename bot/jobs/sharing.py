"""This process's share of the jobs: taken up at start-up, its leases renewed, jobs another
process took over let go, and the jobs of a process that stopped renewing taken over.
One process on its own database holds every job, and only the first step happens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.jobs.book import JobBook
from bot.jobs.leases import JobLeases
from bot.jobs.model import Job
from bot.jobs.peers import Handler, JobPeers
from bot.jobs.ports import StoreError

log = logging.getLogger(__name__)


class JobSharing:
    def __init__(
        self,
        book: JobBook,
        leases: JobLeases,
        peers: JobPeers,
        *,
        claim_batch: int,
        take_up: Callable[[list[Job]], Awaitable[None]],
        let_go: Callable[[int], None],
        answer: Handler,
        spawn: Callable[[Coroutine[Any, Any, None]], object],
    ) -> None:
        """`take_up(jobs)` settles jobs this process now holds; `let_go(job_id)` forgets a
        job another process holds now; `answer` acts on peers' requests; `spawn` starts an
        owned task (cancelled with the tracker)."""
        self._book = book
        self._leases = leases
        self._peers = peers
        self._claim_batch = claim_batch
        self._take_up = take_up
        self._let_go = let_go
        self._answer = answer
        self._spawn = spawn
        self._closing = False

    @property
    def shared(self) -> bool:
        return self._leases.shared

    async def start(self) -> None:
        await self._take_up(await self._leases.claim(limit=self._claim_batch))

    async def start_sharing(self) -> None:
        """Once the tracker runs: answer peers and keep the leases."""
        if self.shared:
            await self._peers.start(self._answer)
            self._spawn(self._keep())

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
        while True:
            await asyncio.sleep(self._leases.interval)
            try:
                held_before = {job.id for job in self._book}
                for job_id in held_before - await self._leases.renew(held_before):
                    self._let_go(job_id)
                await self._peers.keep_listening()
                if not self._closing:
                    await self._take_up(await self._leases.claim(limit=self._claim_batch))
            except StoreError as error:
                self._book.health.failed(error)
            except Exception:
                log.exception("renewing job leases failed; trying again")
