"""The job tracker: persist, submit, watch, cancel, deliver — and survive restarts.

A small composition of rooms with one job each: the `Scheduler` owns time and tasks,
`RunComfySide` says what RunComfy's answers mean, `LineRelease` decides who leaves the
waiting line, and `bot.jobs.notices` is the final message's retry rule. The tracker
holds the unfinished jobs and applies every change in one order: written to the store,
then kept in memory, then told to observers. A restart at any point therefore resumes
from the store: polling carries on from the saved request id, a finished job is
delivered, and a job whose submit outcome is unknown is never sent again by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.clock import Clock
from bot.jobs import notices
from bot.jobs.line import ServerLimits, TooManyJobs
from bot.jobs.model import (
    ACTIVE_STATES,
    LOCAL_STATES,
    Failure,
    Job,
    JobOrigin,
    JobState,
    NoticeState,
)
from bot.jobs.notices import NoticeRetry
from bot.jobs.polling import PollPolicy
from bot.jobs.ports import JobObserver, NoticeError, Notifier, RunComfy
from bot.jobs.release import LineRelease, moves_the_line
from bot.jobs.runcomfy_side import (
    Accepted,
    Cancelled,
    PollVerdict,
    Refused,
    RunComfySide,
    Seen,
)
from bot.jobs.scheduler import Scheduler
from bot.jobs.store import JobStore, is_open
from bot.jobs.usage import Quota, Usage, UsageRecord, check_quota, day_start
from bot.runcomfy.errors import ErrorKind
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """Every limit, delay and retry count of the tracker (delays in clock seconds)."""

    limits: ServerLimits = field(default_factory=ServerLimits)
    """Per-server limits for servers without their own (see `limits_for`)."""
    max_active_total: int = 50
    max_waiting_per_user: int = 5
    deadline_seconds: float = 30 * 60
    submit_retries: int = 3
    """How often a submit refused by an outage (5xx, no connection) is tried again."""
    rate_limited_submit_retries: int = 10
    submit_backoff: float = 10.0
    first_poll_within: float = 2.0
    """The first poll after a submit comes at most this soon (a queue may be empty)."""
    poll_error_delay: float = 15.0
    result_pending_delay: float = 1.0
    """When the status says completed but the result does not have the video yet."""
    notice_retries: int = 8
    notice_backoff: float = 5.0
    notice_backoff_cap: float = 300.0
    crash_retry_delay: float = 60.0
    """A job whose action crashed unexpectedly comes due again after this long."""
    history_runs: int = 200
    """Finished runs read back at start-up to teach the poll policy."""
    shutdown_grace: float = 10.0
    """Real seconds to let in-flight submits finish on shutdown, so they are not left unknown."""

    @property
    def notice_retry(self) -> NoticeRetry:
        return NoticeRetry(self.notice_retries, self.notice_backoff, self.notice_backoff_cap)


class CancelOutcomeKind(StrEnum):
    CANCELLED = "cancelled"
    ALREADY_RUNNING = "already_running"
    ALREADY_FINISHED = "already_finished"
    NOT_FOUND = "not_found"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class CancelReport:
    outcome: CancelOutcomeKind
    job: Job | None
    problem: ErrorKind | None = None
    """Why RunComfy could not be asked (UNREACHABLE), when known."""


class JobTracker:
    def __init__(
        self,
        store: JobStore,
        runcomfy: RunComfy,
        *,
        clock: Clock,
        pricing: Pricing,
        poll_policy: PollPolicy,
        settings: TrackerSettings | None = None,
        notifier: Notifier | None = None,
        limits_for: Callable[[int | None], ServerLimits] | None = None,
    ) -> None:
        self._store = store
        self._runcomfy = RunComfySide(runcomfy)
        self._clock = clock
        self._pricing = pricing
        self._policy = poll_policy
        self._settings = settings or TrackerSettings()
        default_limits = self._settings.limits
        self._line = LineRelease(
            limits_for=limits_for or (lambda guild_id: default_limits),
            max_active_total=self._settings.max_active_total,
        )
        self._limits_for = limits_for or (lambda guild_id: default_limits)
        self._notifier = notifier
        self._observers: list[JobObserver] = []
        self._jobs: dict[int, Job] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._create_lock = asyncio.Lock()
        self._submits: set[asyncio.Task[None]] = set()
        self._closing = False
        self._scheduler = Scheduler(
            clock,
            dispatch=self._act,
            before_due=self._release,
            crash_retry_delay=self._settings.crash_retry_delay,
        )

    # ----------------------------------------------------------------- lifecycle

    def add_observer(self, observer: JobObserver) -> None:
        self._observers.append(observer)

    @property
    def observers(self) -> tuple[JobObserver, ...]:
        return tuple(self._observers)

    def remove_observer(self, observer: JobObserver) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def set_notifier(self, notifier: Notifier | None) -> None:
        """Who posts final messages; None holds them (they wait, stored, for the next)."""
        self._notifier = notifier
        if notifier is None:
            return
        for job in self._jobs.values():
            if job.notice in (NoticeState.PENDING, NoticeState.SENDING):
                self._scheduler.at(job.id, self._clock.now())

    async def start(self) -> None:
        """Reload unfinished jobs from the store, settle each one, start the scheduler."""
        await self._learn_from_history()
        for job in await self._store.load_open():
            self._jobs[job.id] = job
            await self._recover(job, self._clock.now())
        log.info("job tracker started with %d unfinished jobs", len(self._jobs))
        self._scheduler.start()

    def is_running(self) -> bool:
        return self._scheduler.is_alive()

    async def _recover(self, job: Job, now: float) -> None:
        """Decide what a job reloaded after a restart needs; never resubmit by itself."""
        if job.state is JobState.NEW:
            await self._finish(job, JobState.CANCELLED, Failure.RESTARTED_BEFORE_QUEUED)
        elif job.state is JobState.SUBMITTING:
            await self._finish(job, JobState.SUBMISSION_UNKNOWN, Failure.RESTARTED_WHILE_SUBMITTING)
        elif job.state is JobState.WAITING:
            self._line.dirty = True
        else:
            self._scheduler.at(job.id, now)
            if job.state in ACTIVE_STATES:
                self._line.served(job.requester_id, job.updated_at)

    async def close(self) -> None:
        """Stop: let in-flight submits settle briefly, then cancel every task we own."""
        self._closing = True
        if self._submits:
            await asyncio.wait(set(self._submits), timeout=self._settings.shutdown_grace)
        await self._scheduler.close()

    async def _learn_from_history(self) -> None:
        recent = await self._store.find(
            states=(JobState.DELIVERED, JobState.COMPLETED), limit=self._settings.history_runs
        )
        for job in reversed(recent):
            started = job.entered(JobState.RUNNING)
            finished = job.entered(JobState.COMPLETED)
            if started is not None and finished is not None:
                self._policy.record_run(job.request.effective_duration, finished - started)

    # ---------------------------------------------------------------- public API

    async def create(
        self,
        request: KlingRequest,
        origin: JobOrigin,
        *,
        parent_id: int | None = None,
        extra: Mapping[str, Any] | None = None,
        quota: Quota | None = None,
    ) -> Job:
        """Persist a new job (state NEW). It joins the line when `enqueue` is called.

        Raises `LimitExceeded` (or its `QuotaExceeded`) when a limit or `quota` refuses it.
        """
        async with self._create_lock:
            mine = [
                job
                for job in self._jobs.values()
                if job.requester_id == origin.requester_id and job.guild_id == origin.guild_id
            ]
            active = sum(1 for job in mine if job.state in ACTIVE_STATES)
            waiting = sum(1 for job in mine if job.state in LOCAL_STATES)
            limits = self._limits_for(origin.guild_id)
            allowed_waiting = self._settings.max_waiting_per_user
            if active + waiting + 1 > limits.per_user + allowed_waiting:
                raise TooManyJobs(
                    active=active,
                    waiting=waiting,
                    max_active=limits.per_user,
                    max_waiting=allowed_waiting,
                )
            now = self._clock.now()
            estimate = self._pricing.estimate(request)
            if quota is not None and quota.limits_anything:
                await self._check_quota(quota, request, estimate, origin, now)
            job = Job(
                id=0,
                state=JobState.NEW,
                request=request,
                origin=origin,
                created_at=now,
                updated_at=now,
                estimated_cost=estimate,
                state_times={JobState.NEW: now},
                parent_id=parent_id,
                extra=dict(extra or {}),
            )
            job = await self._store.insert(job)
            self._jobs[job.id] = job
            return job

    async def _check_quota(
        self, quota: Quota, request: KlingRequest, estimate: Decimal, origin: JobOrigin, now: float
    ) -> None:
        records = await self.usage_records(
            since=day_start(now),
            guild_id=origin.guild_id,
            requester_id=origin.requester_id if origin.guild_id is None else None,
        )
        mine = [record for record in records if record.requester_id == origin.requester_id]
        check_quota(
            quota,
            seconds=request.effective_duration,
            estimate=estimate,
            user_today=Usage.of(mine),
            server_today=Usage.of(records) if origin.guild_id is not None else Usage(),
        )

    async def usage_records(
        self, *, since: float, guild_id: int | None, requester_id: int | None = None
    ) -> list[UsageRecord]:
        """What the jobs of a server (or a member) since `since` cost and count."""
        return await self._store.usage_records(
            since=since, guild_id=guild_id, requester_id=requester_id
        )

    async def enqueue(self, job_id: int, *, status_message_id: int | None = None) -> Job:
        """Put a NEW job in the waiting line; from here on the tracker drives it."""
        async with self._lock(job_id):
            job = self._require(job_id)
            changes = {} if status_message_id is None else {"status_message_id": status_message_id}
            return await self._commit(
                job.transition(JobState.WAITING, self._clock.now(), **changes)
            )

    async def annotate(self, job_id: int, **changes: Any) -> Job:
        """Record caller-owned facts (message ids, `extra`) on a job in any state."""
        async with self._lock(job_id):
            job = self._jobs.get(job_id) or await self._store.get(job_id)
            if job is None:
                raise KeyError(job_id)
            return await self._commit(job.update(self._clock.now(), **changes))

    async def cancel(self, job_id: int, *, by: int) -> CancelReport:
        """Cancel a job that has not started generating; says what really happened."""
        async with self._lock(job_id):
            job = self._jobs.get(job_id) or await self._store.get(job_id)
            if job is None:
                return CancelReport(CancelOutcomeKind.NOT_FOUND, None)
            if job.state in LOCAL_STATES:
                return CancelReport(CancelOutcomeKind.CANCELLED, await self._cancelled(job, by))
            if job.state is JobState.RUNNING:
                return CancelReport(CancelOutcomeKind.ALREADY_RUNNING, job)
            if job.state is not JobState.QUEUED:
                return CancelReport(CancelOutcomeKind.ALREADY_FINISHED, job)
            assert job.request_id is not None
            verdict = await self._runcomfy.cancel(job.request_id)
            now = self._clock.now()
            match verdict.outcome:
                case Cancelled.CANCELLED:
                    return CancelReport(CancelOutcomeKind.CANCELLED, await self._cancelled(job, by))
                case Cancelled.UNREACHABLE | Cancelled.NOT_CONFIRMED:
                    return CancelReport(CancelOutcomeKind.UNREACHABLE, job, verdict.problem)
                case Cancelled.FINISHED:
                    self._scheduler.at(job.id, now)
                    return CancelReport(CancelOutcomeKind.ALREADY_FINISHED, job)
            job = await self._commit(job.transition(JobState.RUNNING, now))
            self._scheduler.at(job.id, now + self._policy.next_delay(job, now))
            return CancelReport(CancelOutcomeKind.ALREADY_RUNNING, job)

    async def _cancelled(self, job: Job, by: int) -> Job:
        return await self._commit(
            job.transition(
                JobState.CANCELLED, self._clock.now(), cancelled_by=by, notice=NoticeState.PENDING
            )
        )

    def get(self, job_id: int) -> Job | None:
        """An unfinished job from memory (None when finished or unknown)."""
        return self._jobs.get(job_id)

    async def fetch(self, job_id: int) -> Job | None:
        """Any job, finished or not."""
        return self._jobs.get(job_id) or await self._store.get(job_id)

    async def recent(self, **filters: Any) -> list[Job]:
        """Finished or not, newest first (see JobStore.find)."""
        return await self._store.find(**filters)

    def open_jobs(self, guild_id: int | None = None) -> list[Job]:
        """Jobs not yet finished (optionally of one server), oldest first."""
        jobs = (
            job
            for job in self._jobs.values()
            if (guild_id is None or job.guild_id == guild_id) and not job.state.is_final
        )
        return sorted(jobs, key=lambda job: job.id)

    def place_in_line(self, job_id: int) -> int | None:
        """1 for the next job to be released, and so on; None when not waiting."""
        return self._line.place_of(job_id)

    # -------------------------------------------------------------- dispatching

    def _lock(self, job_id: int) -> asyncio.Lock:
        lock = self._locks.get(job_id)
        if lock is None:
            lock = self._locks[job_id] = asyncio.Lock()
        return lock

    def _require(self, job_id: int) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def _act(self, job_id: int) -> None:
        """A job came due: release the line, poll it, or send its final message."""
        job = self._jobs.get(job_id)
        if job is None:
            return
        if job.state is JobState.WAITING:
            self._line.dirty = True
            self._scheduler.wake()
        elif job.state in (JobState.QUEUED, JobState.RUNNING):
            self._scheduler.run_for(job_id, self._poll, name="poll")
        elif job.notice in (NoticeState.PENDING, NoticeState.SENDING):
            self._scheduler.run_for(job_id, self._send_notice, name="notice")

    def _release(self, now: float) -> None:
        """Submit the first jobs in line that fit the limits; refresh places in line."""
        if not self._line.dirty:
            return
        release = self._line.release(self._jobs.values(), now, closing=self._closing)
        for job in release.submit:
            task = self._scheduler.spawn(self._submit(job.id), name=f"submit-{job.id}")
            self._submits.add(task)
            task.add_done_callback(self._submits.discard)
        for job_id in release.moved:
            self._announce(self._jobs[job_id])
        for job_id, when in release.wake_at:
            self._scheduler.at(job_id, when)

    # ------------------------------------------------------------------- submits

    async def _submit(self, job_id: int) -> None:
        try:
            async with self._lock(job_id):
                job = self._jobs.get(job_id)
                if job is None or job.state is not JobState.WAITING:
                    return
                now = self._clock.now()
                job = await self._commit(
                    job.transition(
                        JobState.SUBMITTING,
                        now,
                        submit_attempts=job.submit_attempts + 1,
                        deadline_at=now + self._settings.deadline_seconds,
                        not_before=None,
                        failure=None,
                        failure_detail=None,
                    )
                )
                verdict = await self._runcomfy.submit(job.request)
                if isinstance(verdict, Accepted):
                    await self._queued(job, verdict.request_id)
                else:
                    await self._refused(job, verdict)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %d: submit failed unexpectedly", job_id)
        finally:
            self._line.settled(job_id)
            self._scheduler.wake()

    async def _queued(self, job: Job, request_id: str) -> None:
        now = self._clock.now()
        job = await self._commit(job.transition(JobState.QUEUED, now, request_id=request_id))
        log.info("job %d submitted as %s", job.id, request_id)
        first = min(self._settings.first_poll_within, self._policy.next_delay(job, now))
        self._scheduler.at(job.id, now + first)

    async def _refused(self, job: Job, verdict: Refused) -> None:
        settings = self._settings
        attempts = job.submit_attempts
        if verdict.retry_kind is ErrorKind.RATE_LIMITED:
            if attempts <= settings.rate_limited_submit_retries:
                delay = verdict.retry_after or settings.submit_backoff * attempts
                await self._back_in_line(job, delay, verdict.retry_kind)
                return
        elif verdict.retry_kind is not None and attempts <= settings.submit_retries:
            await self._back_in_line(
                job, settings.submit_backoff * 2 ** (attempts - 1), verdict.retry_kind
            )
            return
        state = (
            JobState.SUBMISSION_UNKNOWN
            if verdict.failure is Failure.SUBMIT_OUTCOME_UNKNOWN
            else JobState.FAILED
        )
        await self._finish(job, state, verdict.failure, verdict.detail)

    async def _back_in_line(self, job: Job, delay: float, kind: ErrorKind) -> None:
        now = self._clock.now()
        log.warning(
            "job %d: RunComfy refused the submit (%s); retrying in %.0fs", job.id, kind, delay
        )
        await self._commit(
            job.transition(
                JobState.WAITING,
                now,
                not_before=now + delay,
                deadline_at=None,
                failure=Failure.RETRYING,
                failure_detail=kind.value,
            )
        )

    async def _finish(
        self,
        job: Job,
        state: JobState,
        failure: Failure | None,
        detail: str | None = None,
        **changes: Any,
    ) -> Job:
        return await self._commit(
            job.transition(
                state,
                self._clock.now(),
                failure=failure,
                failure_detail=detail,
                notice=NoticeState.PENDING,
                **changes,
            )
        )

    # ------------------------------------------------------------------- polling

    async def _poll(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.state not in (JobState.QUEUED, JobState.RUNNING):
            return
        assert job.request_id is not None
        if job.deadline_at is not None and self._clock.now() >= job.deadline_at:
            await self._time_out(job)
            return
        verdict = await self._runcomfy.poll(job.request_id, job.state)
        async with self._lock(job_id):
            if self._jobs.get(job_id) is not job:
                current = self._jobs.get(job_id)
                if current is not None and current.state in (JobState.QUEUED, JobState.RUNNING):
                    self._scheduler.at(job_id, self._clock.now())
                return
            await self._apply(job, verdict)

    async def _apply(self, job: Job, verdict: PollVerdict) -> None:
        """Turn what a poll saw into the job's next state and its next poll."""
        now = self._clock.now()
        match verdict.seen:
            case Seen.IN_QUEUE:
                if job.state is JobState.QUEUED and verdict.queue_position != job.queue_position:
                    job = await self._commit(job.update(now, queue_position=verdict.queue_position))
            case Seen.RUNNING:
                if job.state is JobState.QUEUED:
                    job = await self._commit(job.transition(JobState.RUNNING, now))
            case Seen.FINISHED:
                started = job.entered(JobState.RUNNING)
                if started is not None:
                    self._policy.record_run(job.request.effective_duration, now - started)
                await self._finish(
                    job,
                    JobState.COMPLETED,
                    None,
                    output_url=verdict.output_url,
                    cost=verdict.cost,
                )
                return
            case Seen.FAILED | Seen.CANCELLED | Seen.LOST:
                state = JobState.CANCELLED if verdict.seen is Seen.CANCELLED else JobState.FAILED
                await self._finish(job, state, verdict.failure, verdict.detail, cost=verdict.cost)
                return
            case Seen.RESULT_PENDING:
                self._poll_after(job, self._settings.result_pending_delay)
                return
            case Seen.NO_ANSWER:
                log.warning("job %d: polling failed (%s); will try again", job.id, verdict.problem)
                self._poll_after(job, self._settings.poll_error_delay)
                return
            case Seen.UNKNOWN:
                log.warning(
                    "job %d: unknown RunComfy status %r; still polling", job.id, verdict.raw_status
                )
        self._poll_after(job, self._policy.next_delay(job, now))

    async def _time_out(self, job: Job) -> None:
        minutes = str(round(self._settings.deadline_seconds / 60))
        failure = Failure.DEADLINE_PASSED
        if job.state is JobState.QUEUED:
            assert job.request_id is not None
            verdict = await self._runcomfy.cancel(job.request_id)
            if verdict.outcome is Cancelled.CANCELLED:
                failure = Failure.NOT_STARTED_BY_DEADLINE
        async with self._lock(job.id):
            if self._jobs.get(job.id) is job:
                await self._finish(job, JobState.TIMED_OUT, failure, minutes)

    def _poll_after(self, job: Job, delay: float) -> None:
        when = self._clock.now() + delay
        if job.deadline_at is not None:
            when = min(when, job.deadline_at)
        self._scheduler.at(job.id, when)

    # ------------------------------------------------------------------- notices

    async def _send_notice(self, job_id: int) -> None:
        notifier = self._notifier
        job = self._jobs.get(job_id)
        if notifier is None or job is None:
            return
        if job.notice not in (NoticeState.PENDING, NoticeState.SENDING):
            return
        now = self._clock.now()
        if job.not_before is not None and job.not_before > now:
            self._scheduler.at(job_id, job.not_before)
            return
        async with self._lock(job_id):
            job = await self._commit(notices.attempting(job, now))
        try:
            message_id = await notifier.send_notice(job)
        except NoticeError as error:
            await self._notice_failed(job, str(error), retryable=error.retryable)
            return
        except Exception as error:
            log.exception("job %d: sending its final message failed", job_id)
            await self._notice_failed(job, f"unexpected error: {error}", retryable=True)
            return
        async with self._lock(job_id):
            await self._commit(notices.sent(job, message_id, self._clock.now()))

    async def _notice_failed(self, job: Job, reason: str, *, retryable: bool) -> None:
        retry = self._settings.notice_retry
        async with self._lock(job.id):
            if retry.gives_up(job, retryable=retryable):
                log.error("job %d: giving up on its final message: %s", job.id, reason)
            else:
                log.warning(
                    "job %d: final message failed (%s); retry in %.0fs",
                    job.id,
                    reason,
                    retry.delay(job.notice_attempts),
                )
            now = self._clock.now()
            await self._commit(notices.failed(job, reason, now, retry=retry, retryable=retryable))

    # ------------------------------------------------------------------ plumbing

    async def _commit(self, job: Job) -> Job:
        """Persist, then update memory, then tell observers — in that order."""
        await self._store.save(job)
        previous = self._jobs.get(job.id)
        if is_open(job):
            self._jobs[job.id] = job
        else:
            self._jobs.pop(job.id, None)
            self._locks.pop(job.id, None)
            self._scheduler.forget(job.id)
        if job.notice is NoticeState.PENDING and (
            previous is None or previous.notice is not job.notice
        ):
            self._scheduler.at(job.id, job.not_before or self._clock.now())
        if job.state is not JobState.WAITING:
            self._line.left_line(job.id)
        if previous is not None and moves_the_line(previous.state, job.state):
            self._line.dirty = True
            self._scheduler.wake()
        self._announce(job)
        return job

    def _announce(self, job: Job) -> None:
        for observer in list(self._observers):
            try:
                observer.job_changed(job)
            except Exception:
                log.exception("observer %r failed on job %d", observer, job.id)
