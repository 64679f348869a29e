"""Watching queued and running jobs at RunComfy: one poll at a time per job, what its
answer changes, when to ask again, and the deadline."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.jobs.book import JobBook
from bot.jobs.model import Failure, Job, JobState
from bot.jobs.polling import PollPolicy
from bot.jobs.runcomfy_side import Cancelled, PollVerdict, RunComfySide, Seen
from bot.jobs.scheduler import Scheduler
from bot.jobs.tracker_settings import TrackerSettings

log = logging.getLogger(__name__)

WATCHED = (JobState.QUEUED, JobState.RUNNING)


class JobWatch:
    def __init__(
        self,
        book: JobBook,
        runcomfy: RunComfySide,
        scheduler: Scheduler,
        *,
        clock: Clock,
        policy: PollPolicy,
        settings: TrackerSettings,
    ) -> None:
        self._book = book
        self._runcomfy = runcomfy
        self._scheduler = scheduler
        self._clock = clock
        self._policy = policy
        self._settings = settings

    async def poll(self, job_id: int) -> None:
        job = self._book.get(job_id)
        if job is None or job.state not in WATCHED:
            return
        assert job.request_id is not None
        if job.deadline_at is not None and self._clock.now() >= job.deadline_at:
            await self._time_out(job)
            return
        verdict = await self._runcomfy.poll(job.request_id, job.state)
        async with self._book.lock(job_id):
            if not self._book.is_current(job):
                current = self._book.get(job_id)
                if current is not None and current.state in WATCHED:
                    self._scheduler.at(job_id, self._clock.now())
                return
            await self._apply(job, verdict)

    def poll_after(self, job: Job, delay: float) -> None:
        """The next poll in `delay` clock seconds, but never after the job's deadline."""
        when = self._clock.now() + delay
        if job.deadline_at is not None:
            when = min(when, job.deadline_at)
        self._scheduler.at(job.id, when)

    async def _apply(self, job: Job, verdict: PollVerdict) -> None:
        """Turn what a poll saw into the job's next state and its next poll."""
        now = self._clock.now()
        match verdict.seen:
            case Seen.IN_QUEUE:
                if job.state is JobState.QUEUED and verdict.queue_position != job.queue_position:
                    job = await self._book.commit(
                        job.update(now, queue_position=verdict.queue_position)
                    )
            case Seen.RUNNING:
                if job.state is JobState.QUEUED:
                    job = await self._book.commit(job.transition(JobState.RUNNING, now))
            case Seen.FINISHED:
                started = job.entered(JobState.RUNNING)
                if started is not None:
                    self._policy.record_run(job.request.effective_duration, now - started)
                await self._book.finish(
                    job,
                    JobState.COMPLETED,
                    None,
                    at=now,
                    output_url=verdict.output_url,
                    cost=verdict.cost,
                )
                return
            case Seen.FAILED | Seen.CANCELLED | Seen.LOST:
                state = JobState.CANCELLED if verdict.seen is Seen.CANCELLED else JobState.FAILED
                await self._book.finish(
                    job, state, verdict.failure, verdict.detail, at=now, cost=verdict.cost
                )
                return
            case Seen.RESULT_PENDING:
                self.poll_after(job, self._settings.result_pending_delay)
                return
            case Seen.NO_ANSWER:
                log.warning("job %d: polling failed (%s); will try again", job.id, verdict.problem)
                self.poll_after(job, self._settings.poll_error_delay)
                return
            case Seen.UNKNOWN:
                log.warning(
                    "job %d: unknown RunComfy status %r; still polling", job.id, verdict.raw_status
                )
        self.poll_after(job, self._policy.next_delay(job, now))

    async def _time_out(self, job: Job) -> None:
        minutes = str(round(self._settings.deadline_seconds / 60))
        failure = Failure.DEADLINE_PASSED
        if job.state is JobState.QUEUED:
            assert job.request_id is not None
            verdict = await self._runcomfy.cancel(job.request_id)
            if verdict.outcome is Cancelled.CANCELLED:
                failure = Failure.NOT_STARTED_BY_DEADLINE
        async with self._book.lock(job.id):
            if self._book.is_current(job):
                now = self._clock.now()
                await self._book.finish(job, JobState.TIMED_OUT, failure, minutes, at=now)
