"""Taking up jobs read back from the store: at start-up, or taken over from a process that
stopped. Each is settled by what the store says of it, and never sent again by itself:
a job caught before it was queued is cancelled, one in line waits again, and one at
RunComfy is watched from its saved request id. (Finished jobs read back teach the
estimates and the poll policy: `JobOutlook`.)

A job caught while being sent carries on from its request id if the process that sent
it left one (it lost the job while RunComfy was taking it, see `Submission`); else it
becomes "may have been sent" — at once for one process on its own database (it was that
process, and it stopped), but when processes share the jobs only once the submit cannot
be under way any more: its longest duration (`TrackerSettings.submit_window`), counted
by the database's clock from when it was sent, has passed. Until then it is read again
every few seconds for the request id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs.events import LineMayMove
from bot.jobs.model import ACTIVE_STATES, Failure, Job, JobState
from bot.jobs.release import LineRelease

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext


class JobRecovery:
    def __init__(self, context: TrackerContext, *, line: LineRelease, shared: bool) -> None:
        """`shared`: other processes share the jobs (one of them may still be sending a
        job this process takes over)."""
        self._book = context.book
        self._scheduler = context.scheduler
        self._bus = context.bus
        self._clock = context.clock
        settings = context.settings
        self._submit_window = settings.submit_window / context.clock.to_real(1.0)
        self._submit_recheck = settings.submit_recheck
        self._line = line
        self._shared = shared

    async def take_up(self, jobs: list[Job]) -> None:
        """Hold and settle jobs this process now holds (those it holds already are kept)."""
        now = self._clock.now()
        for job in jobs:
            if self._book.get(job.id) is not None:
                continue
            self._book.load(job)
            await self._recover(job, now)
        self._scheduler.wake()

    async def _recover(self, job: Job, now: float) -> None:
        """Decide what a job reloaded after a restart needs; never resubmit by itself."""
        if job.state is JobState.NEW:
            await self._book.finish(
                job, JobState.CANCELLED, Failure.RESTARTED_BEFORE_QUEUED, at=now
            )
        elif job.state is JobState.SUBMITTING:
            await self._caught_sending(job, now)
        elif job.state is JobState.WAITING:
            self._bus.publish(LineMayMove())
        else:
            self._watch(job, now)

    def _watch(self, job: Job, now: float) -> None:
        self._scheduler.at(job.id, now)
        if job.state in ACTIVE_STATES:
            self._line.served(job.requester_id, job.updated_at)

    async def _caught_sending(self, job: Job, now: float) -> None:
        """Carry on from the request id its sender left; else wait while the submit may
        still be under way elsewhere, then call it "may have been sent"."""
        if job.request_id is not None:
            self._watch(await self._book.commit(job.transition(JobState.QUEUED, now)), now)
            return
        sent = job.entered(JobState.SUBMITTING) or job.updated_at
        over = sent + self._submit_window
        if self._shared and now < over:
            self._scheduler.at(job.id, min(over, now + self._submit_recheck))
            return
        await self._book.finish(
            job, JobState.SUBMISSION_UNKNOWN, Failure.RESTARTED_WHILE_SUBMITTING, at=now
        )

    async def look_again(self, job_id: int) -> None:
        """A job taken over while another process was sending it is due: settle it by its
        row as it is now (this process's own submits hold the job's lock until settled)."""
        async with self._book.lock(job_id):
            job = self._book.get(job_id)
            if job is None or job.state is not JobState.SUBMITTING:
                return
            job = await self._book.reload(job)
            if job is not None:
                await self._recover(job, self._clock.now())
