"""The tracker's estimates: what it learns for them, and when a shown estimate passes.

Every recorded change teaches the `EtaModel` what it shows: a run seen from start to
finish (the run model the adaptive poll schedule reads too), a wait in RunComfy's queue,
queue positions moving, a video posted. At start-up the latest finished jobs teach it
the same from their stored times. A waiting job's estimate asks the line whom it waits
for (`LineRelease.spot_of`) and when those jobs should free their slots; what that costs
is worked out once per limit per release of the line, not once per job.

A status card asks to be reminded when the estimate it shows passes (`remind_at`); the
reminder comes from the scheduler's one heap and brings the job back to its observers,
so the card can say the job is taking longer than usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs.eta import Eta, release_at
from bot.jobs.events import JobCommitted, ReminderDue
from bot.jobs.model import Failure, Job, JobState
from bot.jobs.polling import RunKind
from bot.jobs.release import LineRelease, PoolKey

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext


class JobOutlook:
    def __init__(self, context: TrackerContext, *, line: LineRelease) -> None:
        self._book = context.book
        self._scheduler = context.scheduler
        self._clock = context.clock
        self._eta = context.eta
        self._history_runs = context.settings.history_runs
        self._line = line
        self._slots: dict[PoolKey, list[float]] = {}
        self._slots_generation = -1
        context.bus.subscribe(JobCommitted, self.on_job_committed)
        context.bus.subscribe(ReminderDue, self.on_reminder_due)

    # ---------------------------------------------------------------- estimates

    def estimate(self, job: Job) -> Eta | None:
        """When the job's video is likely posted (None when nobody waits for it any more)."""
        now = self._clock.now()
        released = self._released_at(job, now) if job.state is JobState.WAITING else None
        return self._eta.estimate(job, now, released)

    def remind_at(self, job_id: int, when: float) -> None:
        """Bring the job back to its observers at `when` (the latest time asked wins)."""
        if self._book.get(job_id) is not None:
            self._scheduler.remind(job_id, when)

    def remind_all(self) -> None:
        """After a restart, nobody knows what the status cards show: come back to each
        open job when its estimate passes, so a card past its time still says so."""
        for job in self._book:
            estimate = self.estimate(job)
            if estimate is not None:
                self._scheduler.remind(job.id, estimate.at)

    def on_reminder_due(self, event: ReminderDue) -> None:
        job = self._book.get(event.job_id)
        if job is not None and not job.state.is_final:
            self._book.announce(job)

    def _released_at(self, job: Job, now: float) -> float | None:
        """When the line should let the job go: the latest of the limits it waits on."""
        spot = self._line.spot_of(job.id)
        if spot is None:
            return None
        if self._slots_generation != self._line.generation:
            self._slots, self._slots_generation = {}, self._line.generation
        cycle = self._eta.time_at_runcomfy(RunKind.of(job.request))
        release = now
        for pool in spot.pools:
            slots = self._slots.get(pool.key)
            if slots is None:
                slots = self._slots[pool.key] = self._slot_ends(pool.key, now)
            release = max(release, release_at(slots, pool.capacity, pool.ahead, cycle, now))
        return release

    def _slot_ends(self, key: PoolKey, now: float) -> list[float]:
        ends = []
        for job_id in self._line.holders(key):
            holder = self._book.get(job_id)
            end = self._eta.finish_at(holder, now) if holder is not None else None
            ends.append(now if end is None else end)
        return ends

    # ----------------------------------------------------------------- learning

    def on_job_committed(self, event: JobCommitted) -> None:
        previous, job = event.previous, event.job
        if previous is None or (previous.state is job.state and job.state is not JobState.QUEUED):
            return
        if previous.state is JobState.QUEUED:
            self._learn_queue(previous, job)
        if previous.state is JobState.RUNNING or job.state is JobState.FAILED:
            self._learn_run(job)
        if previous.state is JobState.COMPLETED and job.state is JobState.DELIVERED:
            self._learn_posting(job)

    def _learn_queue(self, previous: Job, job: Job) -> None:
        """Positions that moved, and a wait that ended."""
        before, after = previous.queue_position, job.queue_position
        if job.state is JobState.QUEUED:
            if before is not None and after is not None and after < before:
                self._eta.queue.advanced(before - after, job.updated_at - previous.updated_at)
            return
        started, queued = job.entered(JobState.RUNNING), job.entered(JobState.QUEUED)
        if started is not None and queued is not None:
            self._eta.queue.started(queued, started, before, previous.updated_at)

    def _learn_run(self, job: Job) -> None:
        """A run seen from start to finish (not one that finished after its deadline),
        or when in its run RunComfy failed a job (for the poll schedule). A failure seen
        while the job was still queued is not one: the queue's polls tell those, and the
        run schedule cannot place its polls by them; nor is one noticed after the
        deadline, at the late pace, whose moment says nothing of the run."""
        if job.state is JobState.FAILED and job.failure is Failure.GENERATION_FAILED:
            started, failed = job.entered(JobState.RUNNING), job.entered(JobState.FAILED)
            timed_out = job.entered(JobState.TIMED_OUT) is not None
            if started is not None and failed is not None and not timed_out:
                self._eta.record_failure(RunKind.of(job.request), failed - started)
            return
        if job.state not in (JobState.COMPLETED, JobState.DELIVERY_FAILED):
            return
        started, finished = job.entered(JobState.RUNNING), job.entered(JobState.COMPLETED)
        if started is not None and finished is not None:
            self._eta.record_run(RunKind.of(job.request), finished - started)

    def _learn_posting(self, job: Job) -> None:
        """A video posted at the first attempt (an outage's wait says nothing of posting)."""
        finished, posted = job.entered(JobState.COMPLETED), job.entered(JobState.DELIVERED)
        if finished is not None and posted is not None and job.notice_attempts == 1:
            self._eta.posting.observe(max(0.0, posted - finished))

    async def learn_from_history(self) -> None:
        """Teach the model the runs, waits and postings of the latest finished jobs, then
        when the latest failed runs failed."""
        recent = await self._book.store.find(
            states=(JobState.DELIVERED, JobState.COMPLETED), limit=self._history_runs
        )
        queue = self._eta.queue
        for job in reversed(recent):
            queued = job.entered(JobState.QUEUED)
            started = job.entered(JobState.RUNNING)
            finished = job.entered(JobState.COMPLETED)
            if started is not None and finished is not None:
                self._eta.record_run(RunKind.of(job.request), finished - started)
            if queued is not None and started is not None:
                queue.wait.observe(max(0.0, started - queued))
            if job.state is JobState.DELIVERED:
                self._learn_posting(job)
        failed = await self._book.store.find(states=(JobState.FAILED,), limit=self._history_runs)
        for job in reversed(failed):
            self._learn_run(job)
