"""Watching jobs RunComfy has: one poll at a time per job, what its answer changes, when
to ask again, and the deadline.

The deadline ends the member's wait, not the bot's interest: a job still generating then
is marked TIMED_OUT (the requester is told) and is still asked about, less often, for as
long as RunComfy knows it; if it finishes after all, it is delivered with a mention. A
job still queued at its deadline is cancelled at RunComfy, which costs nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.jobs.events import JobCommitted, JobLetGo, TokenRefused, TokenWorks
from bot.jobs.model import WATCHED_STATES, Failure, Job, JobState, NoticeState, is_open
from bot.jobs.runcomfy_side import Cancelled, PollVerdict, Seen
from bot.runcomfy.errors import ErrorKind

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

log = logging.getLogger(__name__)

NEW_NOTICE: dict[str, Any] = {
    "notice_attempts": 0,
    "notice_message_id": None,
    "notice_error": None,
}
"""A late job's outcome is a second message: it starts its own notice from scratch."""


UNREACHABLE = frozenset({Failure.SERVER_LEFT, Failure.CHANNEL_GONE})
"""Notes that say there is nowhere to post this job's outcome any more."""


def _nowhere_to_post(job: Job) -> dict[str, Any]:
    assert job.failure is not None
    return {
        "failure": job.failure,
        "notice": NoticeState.FAILED,
        "notice_error": job.failure.value,
    }


class JobWatch:
    """Says `TokenRefused` / `TokenWorks` when a poll shows what RunComfy makes of the
    bot's token."""

    def __init__(self, context: TrackerContext) -> None:
        self._book = context.book
        self._runcomfy = context.runcomfy
        self._scheduler = context.scheduler
        self._clock = context.clock
        self._policy = context.policy
        self._settings = context.settings
        self._bus = context.bus
        self._pending_streak: dict[int, int] = {}
        context.bus.subscribe(JobCommitted, self.on_job_committed)
        context.bus.subscribe(JobLetGo, self.on_job_let_go)

    def on_job_committed(self, event: JobCommitted) -> None:
        """A closed job is over here; a run that ended is over for the schedule; a job
        whose deadline message just went out is still asked about, less often (it may
        yet finish)."""
        previous, job = event.previous, event.job
        if not is_open(job):
            self._pending_streak.pop(job.id, None)
        ended = previous is not None and previous.state is JobState.RUNNING
        if ended and job.state is not JobState.RUNNING:
            self._policy.forget(job.id)
        told_late = job.state is JobState.TIMED_OUT and job.notice is NoticeState.SENT
        if told_late and previous is not None and previous.notice is not NoticeState.SENT:
            self.poll_after(job, self._settings.late_poll_interval)

    def on_job_let_go(self, event: JobLetGo) -> None:
        self._pending_streak.pop(event.job_id, None)
        self._policy.forget(event.job_id)

    @property
    def runs_counted(self) -> int:
        """Runs whose polls the schedule counts (forgotten when each run ends)."""
        return self._policy.runs_counted

    @property
    def pending_streaks(self) -> int:
        """Jobs whose result RunComfy last said was not ready though their status was."""
        return len(self._pending_streak)

    async def poll(self, job_id: int) -> None:
        job = self._book.get(job_id)
        if job is None or job.state not in WATCHED_STATES:
            return
        assert job.request_id is not None
        overdue = job.deadline_at is not None and self._clock.now() >= job.deadline_at
        if overdue and job.state is not JobState.TIMED_OUT:
            await self._time_out(job)
            return
        verdict = await self._runcomfy.poll(job.request_id, job.state)
        async with self._book.lock(job_id):
            if not self._book.is_current(job):
                current = self._book.get(job_id)
                if current is not None and current.state in WATCHED_STATES:
                    self._scheduler.at(job_id, self._clock.now())
                return
            await self._apply(job, verdict)

    def poll_after(self, job: Job, delay: float) -> None:
        """The next poll in `delay` clock seconds, but never after the job's deadline."""
        when = self._clock.now() + delay
        if job.deadline_at is not None and job.state is not JobState.TIMED_OUT:
            when = min(when, job.deadline_at)
        self._scheduler.at(job.id, when)

    async def _apply(self, job: Job, verdict: PollVerdict) -> None:
        """Turn what a poll saw into the job's next state and its next poll."""
        now = self._clock.now()
        if verdict.seen is not Seen.RESULT_PENDING:
            self._pending_streak.pop(job.id, None)
        if verdict.seen is Seen.NO_ANSWER:
            await self._no_answer(job, verdict)
            return
        if job.failure is Failure.TOKEN_REVOKED:
            self._bus.publish(TokenWorks())
            job = await self._book.commit(job.update(now, failure=None, failure_detail=None))
        late = job.state is JobState.TIMED_OUT
        extra = NEW_NOTICE if late else {}
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
                if job.failure in UNREACHABLE:
                    await self._undeliverable(job, now, verdict)
                    return
                await self._book.finish(
                    job,
                    JobState.COMPLETED,
                    None,
                    at=now,
                    output_url=verdict.output_url,
                    cost=verdict.cost,
                    **extra,
                )
                return
            case Seen.FAILED | Seen.CANCELLED | Seen.LOST:
                state = JobState.CANCELLED if verdict.seen is Seen.CANCELLED else JobState.FAILED
                failure = verdict.failure
                if job.failure in UNREACHABLE:
                    failure = job.failure
                    extra = {**extra, **_nowhere_to_post(job)}
                    del extra["failure"]
                await self._book.finish(
                    job,
                    state,
                    failure,
                    verdict.detail,
                    at=now,
                    cost=verdict.cost,
                    **extra,
                )
                return
            case Seen.RESULT_PENDING:
                self.poll_after(job, self._pending_delay(job.id))
                return
            case Seen.UNKNOWN:
                log.warning(
                    "job %d: unknown RunComfy status %r; still polling", job.id, verdict.raw_status
                )
        self.poll_after(job, self._next_delay(job, now))

    async def _undeliverable(self, job: Job, now: float, verdict: PollVerdict) -> None:
        """A paid video whose server or channel is gone: kept (with its link), not posted."""
        assert job.failure is not None
        finished = job.transition(
            JobState.COMPLETED, now, output_url=verdict.output_url, cost=verdict.cost
        )
        await self._book.commit(
            finished.transition(JobState.DELIVERY_FAILED, now, **_nowhere_to_post(job))
        )

    def _next_delay(self, job: Job, now: float) -> float:
        if job.state is JobState.TIMED_OUT:
            return self._settings.late_poll_interval
        return self._policy.next_delay(job, now)

    def _pending_delay(self, job_id: int) -> float:
        """Contradictory answers (status done, result not) back off like any poll."""
        streak = self._pending_streak.get(job_id, 0)
        self._pending_streak[job_id] = streak + 1
        delay = self._settings.result_pending_delay * 2.0**streak
        return min(delay, self._settings.result_pending_cap)

    async def _no_answer(self, job: Job, verdict: PollVerdict) -> None:
        problem = verdict.problem
        if problem is not None and problem.kind is ErrorKind.AUTHENTICATION:
            self._bus.publish(TokenRefused())
            if job.failure is not Failure.TOKEN_REVOKED:
                job = await self._book.commit(
                    job.update(self._clock.now(), failure=Failure.TOKEN_REVOKED)
                )
        else:
            log.warning("job %d: polling failed (%s); will try again", job.id, problem)
        self.poll_after(job, self._settings.poll_error_delay)

    async def _time_out(self, job: Job) -> None:
        minutes = str(round(self._settings.deadline_seconds / 60))
        if job.state is JobState.QUEUED:
            assert job.request_id is not None
            verdict = await self._runcomfy.cancel(job.request_id)
            if verdict.outcome is Cancelled.CANCELLED:
                async with self._book.lock(job.id):
                    if self._book.is_current(job):
                        await self._book.finish(
                            job,
                            JobState.CANCELLED,
                            Failure.NOT_STARTED_BY_DEADLINE,
                            minutes,
                            at=self._clock.now(),
                        )
                return
        async with self._book.lock(job.id):
            if self._book.is_current(job):
                job = await self._book.finish(
                    job, JobState.TIMED_OUT, Failure.DEADLINE_PASSED, minutes, at=self._clock.now()
                )
                self.poll_after(job, self._settings.late_poll_interval)
