"""The job tracker: persist, submit, watch, cancel, deliver — and survive restarts.

One scheduler task owns time: it keeps a heap of when each job next needs attention
and starts one short action per due job (a submit, a poll, a notice). Every change is
written to the store before observers hear of it, so a restart at any point resumes
from the store: polling carries on from the saved request id, a finished job is
delivered, and a job whose submit outcome is unknown is never sent again by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.clock import Clock
from bot.jobs.line import LimitExceeded, ServerLimits, line_order, pick_releases
from bot.jobs.model import (
    ACTIVE_STATES,
    LOCAL_STATES,
    Job,
    JobOrigin,
    JobState,
    NoticeState,
)
from bot.jobs.polling import PollPolicy
from bot.jobs.ports import JobObserver, NoticeError, Notifier
from bot.jobs.store import JobStore, is_open
from bot.jobs.usage import Quota, Usage, UsageRecord, check_quota, day_start
from bot.runcomfy.client import RunComfyClient
from bot.runcomfy.errors import (
    RateLimitedError,
    RequestNotFoundError,
    RunComfyError,
    ServerError,
    SubmitOutcomeUnknownError,
    TransportError,
)
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest
from bot.runcomfy.responses import CancelOutcome, JobResult, RequestStatus, StatusResult

log = logging.getLogger(__name__)

NOTHING_CHARGED = "Nothing was sent to RunComfy or charged."


def moves_the_line(before: JobState, after: JobState) -> bool:
    """Whether a state change can release or reorder waiting jobs: a job joins or leaves
    the line, or takes or frees a slot at RunComfy. Moves between active states (queued →
    running) do neither, and rescanning every job for each of them is what made a busy
    tracker's CPU grow with the square of its jobs."""
    if before is after:
        return False
    return JobState.WAITING in (before, after) or (before in ACTIVE_STATES) != (
        after in ACTIVE_STATES
    )


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    limits: ServerLimits = field(default_factory=ServerLimits)
    """Per-server limits for servers without their own (see `limits_for`)."""
    max_active_total: int = 50
    max_waiting_per_user: int = 5
    deadline_seconds: float = 30 * 60
    submit_retries: int = 3
    """How often a submit refused by an outage (5xx, no connection) is tried again."""
    rate_limited_submit_retries: int = 10
    submit_backoff: float = 10.0
    poll_error_delay: float = 15.0
    notice_retries: int = 8
    notice_backoff: float = 5.0
    notice_backoff_cap: float = 300.0
    shutdown_grace: float = 10.0
    """Real seconds to let in-flight submits finish on shutdown, so they are not left unknown."""


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
    detail: str | None = None


class JobTracker:
    def __init__(
        self,
        store: JobStore,
        client: RunComfyClient,
        *,
        clock: Clock,
        pricing: Pricing,
        poll_policy: PollPolicy,
        settings: TrackerSettings | None = None,
        notifier: Notifier | None = None,
        limits_for: Callable[[int | None], ServerLimits] | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._clock = clock
        self._pricing = pricing
        self._policy = poll_policy
        self._settings = settings or TrackerSettings()
        default_limits = self._settings.limits
        self._limits_for = limits_for or (lambda guild_id: default_limits)
        self._notifier = notifier
        self._observers: list[JobObserver] = []
        self._jobs: dict[int, Job] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._create_lock = asyncio.Lock()
        self._heap: list[tuple[float, int, int]] = []
        self._due: dict[int, float] = {}
        self._seq = itertools.count()
        self._busy: set[int] = set()
        self._reserved: set[int] = set()
        self._submit_tasks: set[asyncio.Task[None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_served: dict[int, float] = {}
        self._places: dict[int, int] = {}
        self._line_dirty = False
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._closing = False

    # ----------------------------------------------------------------- lifecycle

    def add_observer(self, observer: JobObserver) -> None:
        self._observers.append(observer)

    def set_notifier(self, notifier: Notifier) -> None:
        self._notifier = notifier
        for job in self._jobs.values():
            if job.notice in (NoticeState.PENDING, NoticeState.SENDING):
                self._schedule(job.id, self._clock.now())

    async def start(self) -> None:
        """Reload unfinished jobs from the store, settle each one, start the scheduler."""
        await self._learn_from_history()
        for job in await self._store.load_open():
            self._jobs[job.id] = job
            await self._recover(job, self._clock.now())
        log.info("job tracker started with %d unfinished jobs", len(self._jobs))
        self._loop_task = asyncio.create_task(self._run(), name="job-scheduler")

    async def _recover(self, job: Job, now: float) -> None:
        """Decide what a job reloaded after a restart needs; never resubmit by itself."""
        if job.state is JobState.NEW:
            reason = f"The bot restarted before this job was queued. {NOTHING_CHARGED}"
            await self._finish(job, JobState.CANCELLED, reason)
        elif job.state is JobState.SUBMITTING:
            reason = (
                "The bot restarted while sending this job to RunComfy, so it cannot tell "
                "whether RunComfy received it. It was not sent again, to avoid paying twice."
            )
            await self._finish(job, JobState.SUBMISSION_UNKNOWN, reason)
        elif job.state is JobState.WAITING:
            self._line_dirty = True
        else:
            self._schedule(job.id, now)
            if job.state in ACTIVE_STATES:
                served = self._last_served.get(job.requester_id, 0.0)
                self._last_served[job.requester_id] = max(served, job.updated_at)

    async def close(self) -> None:
        """Stop: let in-flight submits settle briefly, then cancel every task we own."""
        self._closing = True
        if self._submit_tasks:
            await asyncio.wait(set(self._submit_tasks), timeout=self._settings.shutdown_grace)
        tasks = [*self._tasks, *([self._loop_task] if self._loop_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._loop_task = None

    async def _learn_from_history(self) -> None:
        recent = await self._store.find(states=(JobState.DELIVERED, JobState.COMPLETED), limit=200)
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
                raise LimitExceeded(
                    f"You already have {active} video{'s' if active != 1 else ''} in progress "
                    f"and {waiting} waiting in line; at most {limits.per_user} can run and "
                    f"{allowed_waiting} wait per person. Wait for one to finish or cancel one."
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
            now = self._clock.now()
            if job.state in LOCAL_STATES:
                job = await self._commit(
                    job.transition(
                        JobState.CANCELLED, now, cancelled_by=by, notice=NoticeState.PENDING
                    )
                )
                return CancelReport(CancelOutcomeKind.CANCELLED, job)
            if job.state is JobState.RUNNING:
                return CancelReport(CancelOutcomeKind.ALREADY_RUNNING, job)
            if job.state is not JobState.QUEUED:
                return CancelReport(CancelOutcomeKind.ALREADY_FINISHED, job)
            assert job.request_id is not None
            try:
                answer = await self._client.cancel(job.request_id)
                outcome, status = answer.outcome, answer.status
                if outcome is CancelOutcome.UNKNOWN:
                    status = (await self._client.status(job.request_id)).status
            except RunComfyError as error:
                log.warning("cancel of job %d failed: %s", job.id, error)
                return CancelReport(CancelOutcomeKind.UNREACHABLE, job, error.user_message)
            now = self._clock.now()
            if outcome is CancelOutcome.CANCELLED or status is RequestStatus.CANCELLED:
                job = await self._commit(
                    job.transition(
                        JobState.CANCELLED, now, cancelled_by=by, notice=NoticeState.PENDING
                    )
                )
                return CancelReport(CancelOutcomeKind.CANCELLED, job)
            if status is RequestStatus.IN_QUEUE and outcome is not CancelOutcome.NOT_CANCELLABLE:
                return CancelReport(
                    CancelOutcomeKind.UNREACHABLE, job, "RunComfy did not confirm the cancel."
                )
            if status in (RequestStatus.COMPLETED, RequestStatus.FAILED):
                self._schedule(job.id, now)
                return CancelReport(CancelOutcomeKind.ALREADY_FINISHED, job)
            job = await self._commit(job.transition(JobState.RUNNING, now))
            self._schedule(job.id, now + self._policy.next_delay(job, now))
            return CancelReport(CancelOutcomeKind.ALREADY_RUNNING, job)

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
        return self._places.get(job_id)

    # ---------------------------------------------------------------- scheduling

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

    def _schedule(self, job_id: int, when: float) -> None:
        current = self._due.get(job_id)
        if current is not None and current <= when:
            return
        self._due[job_id] = when
        heapq.heappush(self._heap, (when, next(self._seq), job_id))
        self._wakeup.set()

    async def _run(self) -> None:
        while not self._closing:
            self._wakeup.clear()
            now = self._clock.now()
            if self._line_dirty:
                self._line_dirty = False
                self._release(now)
            while self._heap and self._heap[0][0] <= now:
                when, _, job_id = heapq.heappop(self._heap)
                if self._due.get(job_id) != when:
                    continue
                del self._due[job_id]
                if job_id in self._busy:
                    continue
                self._act(job_id)
            delay = self._heap[0][0] - self._clock.now() if self._heap else 3600.0
            await self._clock.wait_for(self._wakeup, max(0.0, delay))

    def _act(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            return
        if job.state is JobState.WAITING:
            self._line_dirty = True
            self._wakeup.set()
        elif job.state in (JobState.QUEUED, JobState.RUNNING):
            self._spawn(job_id, self._poll)
        elif job.notice in (NoticeState.PENDING, NoticeState.SENDING):
            self._spawn(job_id, self._send_notice)

    def _spawn(self, job_id: int, action: Callable[[int], Awaitable[None]]) -> None:
        self._busy.add(job_id)

        async def run() -> None:
            try:
                await action(job_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job %d: unexpected error; trying again in a minute", job_id)
                self._schedule(job_id, self._clock.now() + 60.0)
            finally:
                self._busy.discard(job_id)

        task = asyncio.create_task(run(), name=f"job-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _release(self, now: float) -> None:
        """Submit the first jobs in line that fit the limits; refresh places in line."""
        waiting = [job for job in self._jobs.values() if job.state is JobState.WAITING]
        order = [
            job for job in line_order(waiting, self._last_served) if job.id not in self._reserved
        ]
        active = [
            job
            for job in self._jobs.values()
            if job.state in ACTIVE_STATES or job.id in self._reserved
        ]
        releases = (
            []
            if self._closing
            else pick_releases(
                order,
                active,
                limits_for=self._limits_for,
                total=self._settings.max_active_total,
                now=now,
            )
        )
        for job in releases:
            self._reserved.add(job.id)
            self._last_served[job.requester_id] = now
            self._spawn_submit(job.id)
        released = {job.id for job in releases}
        places = {
            job.id: place
            for place, job in enumerate((job for job in order if job.id not in released), start=1)
        }
        changed = [job_id for job_id, place in places.items() if self._places.get(job_id) != place]
        self._places = places
        for job_id in changed:
            self._announce(self._jobs[job_id])
        for job in order:
            if job.not_before is not None and job.not_before > now and job.id not in released:
                self._schedule(job.id, job.not_before)

    def _spawn_submit(self, job_id: int) -> None:
        task = asyncio.create_task(self._submit(job_id), name=f"submit-{job_id}")
        self._tasks.add(task)
        self._submit_tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._submit_tasks.discard)

    # ------------------------------------------------------------------- actions

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
                        error=None,
                    )
                )
                await self._send_to_runcomfy(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %d: submit failed unexpectedly", job_id)
        finally:
            self._reserved.discard(job_id)
            self._line_dirty = True
            self._wakeup.set()

    async def _send_to_runcomfy(self, job: Job) -> None:
        settings = self._settings
        try:
            submitted = await self._client.submit(job.request)
        except SubmitOutcomeUnknownError as error:
            await self._finish(job, JobState.SUBMISSION_UNKNOWN, error.user_message)
            return
        except RateLimitedError as error:
            if job.submit_attempts <= settings.rate_limited_submit_retries:
                delay = error.retry_after or settings.submit_backoff * job.submit_attempts
                await self._back_in_line(job, delay, error)
                return
            await self._finish(job, JobState.FAILED, f"{error.user_message} {NOTHING_CHARGED}")
            return
        except (ServerError, TransportError) as error:
            if job.submit_attempts <= settings.submit_retries:
                delay = settings.submit_backoff * 2 ** (job.submit_attempts - 1)
                await self._back_in_line(job, delay, error)
                return
            await self._finish(job, JobState.FAILED, f"{error.user_message} {NOTHING_CHARGED}")
            return
        except RunComfyError as error:
            await self._finish(job, JobState.FAILED, error.user_message)
            return
        now = self._clock.now()
        job = await self._commit(
            job.transition(JobState.QUEUED, now, request_id=submitted.request_id)
        )
        log.info("job %d submitted as %s", job.id, submitted.request_id)
        self._schedule(job.id, now + min(2.0, self._policy.next_delay(job, now)))

    async def _back_in_line(self, job: Job, delay: float, error: RunComfyError) -> None:
        now = self._clock.now()
        log.warning(
            "job %d: RunComfy refused the submit (%s); retrying in %.0fs", job.id, error, delay
        )
        await self._commit(
            job.transition(
                JobState.WAITING,
                now,
                not_before=now + delay,
                deadline_at=None,
                error=f"{error.user_message} Trying again shortly.",
            )
        )

    async def _finish(self, job: Job, state: JobState, error: str | None, **changes: Any) -> Job:
        return await self._commit(
            job.transition(
                state, self._clock.now(), error=error, notice=NoticeState.PENDING, **changes
            )
        )

    async def _poll(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.state not in (JobState.QUEUED, JobState.RUNNING):
            return
        assert job.request_id is not None
        if job.deadline_at is not None and self._clock.now() >= job.deadline_at:
            await self._time_out(job)
            return
        answer: StatusResult | JobResult
        try:
            if job.state is JobState.QUEUED:
                answer = await self._client.status(job.request_id)
            else:
                answer = await self._client.result(job.request_id)
        except RequestNotFoundError as error:
            await self._lost_at_runcomfy(job, error)
            return
        except RunComfyError as error:
            log.warning("job %d: polling failed (%s); will try again", job.id, error)
            self._schedule_poll(job, self._settings.poll_error_delay)
            return
        async with self._lock(job_id):
            if self._jobs.get(job_id) is not job:
                current = self._jobs.get(job_id)
                if current is not None and current.state in (JobState.QUEUED, JobState.RUNNING):
                    self._schedule(job_id, self._clock.now())
                return
            await self._apply(job, answer)

    async def _apply(self, job: Job, answer: StatusResult | JobResult) -> None:
        now = self._clock.now()
        status = answer.status
        if status is RequestStatus.IN_QUEUE:
            if job.state is JobState.QUEUED and answer.queue_position != job.queue_position:
                job = await self._commit(job.update(now, queue_position=answer.queue_position))
        elif status is RequestStatus.IN_PROGRESS:
            if job.state is JobState.QUEUED:
                job = await self._commit(job.transition(JobState.RUNNING, now))
        elif status is RequestStatus.COMPLETED:
            await self._complete(job, answer)
            return
        elif status is RequestStatus.FAILED:
            reason = answer.error if isinstance(answer, JobResult) else None
            if reason is None:
                reason = await self._failure_reason(job)
            text = "RunComfy could not generate this video"
            await self._finish(job, JobState.FAILED, f"{text}: {reason}" if reason else f"{text}.")
            return
        elif status is RequestStatus.CANCELLED:
            await self._finish(job, JobState.CANCELLED, "The job was cancelled at RunComfy.")
            return
        else:
            log.warning(
                "job %d: unknown RunComfy status %r; still polling", job.id, answer.raw_status
            )
        self._schedule_poll(job, self._policy.next_delay(job, now))

    async def _complete(self, job: Job, answer: StatusResult | JobResult) -> None:
        assert job.request_id is not None
        result = answer
        if not isinstance(result, JobResult):
            try:
                result = await self._client.result(job.request_id)
            except RunComfyError as error:
                log.warning("job %d: fetching the result failed (%s)", job.id, error)
                self._schedule_poll(job, self._settings.poll_error_delay)
                return
        if result.status is not RequestStatus.COMPLETED:
            self._schedule_poll(job, 1.0)
            return
        now = self._clock.now()
        started = job.entered(JobState.RUNNING)
        if started is not None:
            self._policy.record_run(job.request.effective_duration, now - started)
        url = result.video_url
        if url is None:
            await self._finish(job, JobState.FAILED, "RunComfy finished the job but sent no video.")
            return
        await self._finish(job, JobState.COMPLETED, None, output_url=url, cost=result.cost)

    async def _failure_reason(self, job: Job) -> str | None:
        assert job.request_id is not None
        try:
            return (await self._client.result(job.request_id)).error
        except RunComfyError:
            return None

    async def _lost_at_runcomfy(self, job: Job, error: RequestNotFoundError) -> None:
        assert job.request_id is not None
        if job.state is JobState.RUNNING:
            # The result endpoint may refuse unfinished jobs; only trust a second opinion.
            try:
                await self._client.status(job.request_id)
            except RequestNotFoundError:
                pass
            except RunComfyError:
                self._schedule_poll(job, self._settings.poll_error_delay)
                return
            else:
                self._schedule_poll(job, self._settings.poll_error_delay)
                return
        async with self._lock(job.id):
            if self._jobs.get(job.id) is job:
                await self._finish(job, JobState.FAILED, error.user_message)

    async def _time_out(self, job: Job) -> None:
        minutes = round(self._settings.deadline_seconds / 60)
        reason = f"RunComfy did not finish this video within {minutes} minutes."
        if job.state is JobState.QUEUED:
            assert job.request_id is not None
            with contextlib.suppress(RunComfyError):
                answer = await self._client.cancel(job.request_id)
                if answer.outcome is CancelOutcome.CANCELLED:
                    reason = (
                        f"RunComfy did not start this video within {minutes} minutes, so the bot "
                        "cancelled it. Nothing was charged."
                    )
        async with self._lock(job.id):
            if self._jobs.get(job.id) is job:
                await self._finish(job, JobState.TIMED_OUT, reason)

    def _schedule_poll(self, job: Job, delay: float) -> None:
        when = self._clock.now() + delay
        if job.deadline_at is not None:
            when = min(when, job.deadline_at)
        self._schedule(job.id, when)

    async def _send_notice(self, job_id: int) -> None:
        notifier = self._notifier
        job = self._jobs.get(job_id)
        if notifier is None or job is None:
            return
        if job.notice not in (NoticeState.PENDING, NoticeState.SENDING):
            return
        now = self._clock.now()
        if job.not_before is not None and job.not_before > now:
            self._schedule(job_id, job.not_before)
            return
        async with self._lock(job_id):
            job = await self._commit(
                job.update(now, notice=NoticeState.SENDING, notice_attempts=job.notice_attempts + 1)
            )
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
            now = self._clock.now()
            job = job.update(
                now, notice=NoticeState.SENT, notice_message_id=message_id, notice_error=None
            )
            if job.state is JobState.COMPLETED:
                job = job.transition(JobState.DELIVERED, now)
            await self._commit(job)

    async def _notice_failed(self, job: Job, reason: str, *, retryable: bool) -> None:
        settings = self._settings
        now = self._clock.now()
        async with self._lock(job.id):
            if retryable and job.notice_attempts <= settings.notice_retries:
                delay = min(
                    settings.notice_backoff * 2 ** (job.notice_attempts - 1),
                    settings.notice_backoff_cap,
                )
                log.warning(
                    "job %d: final message failed (%s); retry in %.0fs", job.id, reason, delay
                )
                await self._commit(
                    job.update(
                        now, notice=NoticeState.PENDING, notice_error=reason, not_before=now + delay
                    )
                )
                return
            log.error("job %d: giving up on its final message: %s", job.id, reason)
            job = job.update(now, notice=NoticeState.FAILED, notice_error=reason)
            if job.state is JobState.COMPLETED:
                job = job.transition(JobState.DELIVERY_FAILED, now)
            await self._commit(job)

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
            self._due.pop(job.id, None)
        if job.notice is NoticeState.PENDING and (
            previous is None or previous.notice is not job.notice
        ):
            self._schedule(job.id, job.not_before or self._clock.now())
        if job.state is not JobState.WAITING:
            self._places.pop(job.id, None)
        if previous is not None and moves_the_line(previous.state, job.state):
            self._line_dirty = True
            self._wakeup.set()
        self._announce(job)
        return job

    def _announce(self, job: Job) -> None:
        for observer in self._observers:
            try:
                observer.job_changed(job)
            except Exception:
                log.exception("observer %r failed on job %d", observer, job.id)
