"""Taking up jobs read back from the store: at start-up, or taken over from a process that
stopped. Each is settled by what the store says of it, and never sent again by itself:
a job caught before it was queued is cancelled, one caught while being sent becomes
"may have been sent", one in line waits again, and one at RunComfy is watched from its
saved request id. (Finished jobs read back teach the estimates: `JobOutlook`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs.events import LineMayMove
from bot.jobs.model import ACTIVE_STATES, Failure, Job, JobState
from bot.jobs.release import LineRelease

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext


class JobRecovery:
    def __init__(self, context: TrackerContext, *, line: LineRelease) -> None:
        self._book = context.book
        self._scheduler = context.scheduler
        self._bus = context.bus
        self._clock = context.clock
        self._line = line

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
            await self._book.finish(
                job, JobState.SUBMISSION_UNKNOWN, Failure.RESTARTED_WHILE_SUBMITTING, at=now
            )
        elif job.state is JobState.WAITING:
            self._bus.publish(LineMayMove())
        else:
            self._scheduler.at(job.id, now)
            if job.state in ACTIVE_STATES:
                self._line.served(job.requester_id, job.updated_at)
