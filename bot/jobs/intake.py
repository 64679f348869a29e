"""Taking in a new job: the member's limits and the daily quotas are checked, then the job
is stored (state NEW) before anything is sent anywhere. Both are read from the database
under the store's intake lock, so they hold across processes sharing it. Once the caller
has shown it to the member, the job is put in the waiting line (`enqueue`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.jobs.leases import LeaseLost
from bot.jobs.line import STORE_REFUSING, TOKEN_REFUSED, NotTakingJobs, TooManyJobs
from bot.jobs.model import Job, JobOrigin, JobState
from bot.jobs.ports import StoreError
from bot.jobs.token_watch import TokenWatch
from bot.jobs.usage import Quota, Usage, UsageRecord, check_quota, day_start
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

CallerCheck = Callable[[Decimal], Awaitable[None]]
"""A caller's own rule for one new job, run under the intake lock with the job's estimate
(after the limits and quotas); it refuses by raising a `LimitExceeded`."""


class JobIntake:
    def __init__(self, context: TrackerContext, *, token: TokenWatch, pricing: Pricing) -> None:
        """No new job is taken while RunComfy refuses the bot's `token`."""
        self._book = context.book
        self._scheduler = context.scheduler
        self._clock = context.clock
        self._settings = context.settings
        self._limits_for = context.limits_for
        self._max_waiting = context.settings.max_waiting_per_user
        self._token = token
        self._pricing = pricing
        self._lock = asyncio.Lock()
        """One new job at a time, so a burst cannot slip past a limit or quota."""

    def _refusing(self) -> str | None:
        """Why no new job is taken now (nothing would come of it), if so. A store that
        refused the last write is tried again all the same: the insert itself says whether
        it takes writes now, so a new job is taken as soon as it does."""
        if self._token.refused:
            return TOKEN_REFUSED
        return None

    async def create(
        self,
        request: KlingRequest,
        origin: JobOrigin,
        *,
        parent_id: int | None = None,
        locale: str | None = None,
        quota: Quota | None = None,
        session_id: int | None = None,
        check: CallerCheck | None = None,
    ) -> Job:
        """Persist a new job (state NEW), or raise `LimitExceeded` / `QuotaExceeded`, or
        `NotTakingJobs` while the database or RunComfy refuses (nothing would come of it)."""
        async with self._lock:
            reason = self._refusing()
            if reason is not None:
                raise NotTakingJobs(reason)
            try:
                async with self._book.store.intake_lock(origin.guild_id):
                    job = await self._take(
                        request, origin, parent_id, locale, quota, session_id, check
                    )
            except StoreError as error:
                self._book.health.failed(error)
                raise NotTakingJobs(STORE_REFUSING) from error
            self._book.health.succeeded()
            return job

    @contextlib.asynccontextmanager
    async def held(self, guild_id: int | None) -> AsyncIterator[None]:
        """Take no new job of the server meanwhile (in this process, and in every process
        sharing the database), so a caller's rule can change between two jobs."""
        async with self._lock, self._book.store.intake_lock(guild_id):
            yield

    async def _take(
        self,
        request: KlingRequest,
        origin: JobOrigin,
        parent_id: int | None,
        locale: str | None,
        quota: Quota | None,
        session_id: int | None,
        check: CallerCheck | None,
    ) -> Job:
        await self._check_limits(origin)
        now = self._clock.now()
        estimate = self._pricing.estimate(request)
        if quota is not None and quota.limits_anything:
            await self._check_quota(quota, request, estimate, origin, now)
        if check is not None:
            await check(estimate)
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
            locale=locale,
            session_id=session_id,
        )
        job = await self._book.store.insert(job)
        self._book.load(job)
        return job

    async def enqueue(self, job_id: int, *, status_message_id: int | None = None) -> Job:
        """Put a NEW job in the waiting line; from here on the tracker drives it. Raises
        `NotTakingJobs` (nothing was sent) when the database refuses to record that; the
        stored job is then cancelled as soon as the database takes writes again."""
        async with self._book.lock(job_id):
            job = self._book.require(job_id)
            changes = {} if status_message_id is None else {"status_message_id": status_message_id}
            try:
                return await self._book.commit(
                    job.transition(JobState.WAITING, self._clock.now(), **changes)
                )
            except StoreError as error:
                self._book.drop(job_id)
                retry = self._settings.store_retry_delay
                withdraw = self.withdraw(job, retry_every=retry)
                self._scheduler.spawn(withdraw, name=f"withdraw-{job_id}")
                raise NotTakingJobs(STORE_REFUSING) from error

    async def withdraw(self, job: Job, *, retry_every: float) -> None:
        """Settle a stored job that could not be put in line (the database refused, and
        the member was told so): cancelled, nothing sent, no notice, written as soon as
        the database takes it, so its row stops counting towards the member's limits
        and quotas without waiting for a restart (which would settle it too)."""
        while True:
            try:
                async with self._book.lock(job.id):
                    await self._book.commit(job.transition(JobState.CANCELLED, self._clock.now()))
                return
            except StoreError:
                await self._clock.sleep(retry_every)
            except LeaseLost:
                return

    async def _check_limits(self, origin: JobOrigin) -> None:
        active, waiting = await self._book.store.open_counts(origin.requester_id, origin.guild_id)
        per_user = origin.active_limit or self._limits_for(origin.guild_id).per_user
        if active + waiting + 1 > per_user + self._max_waiting:
            raise TooManyJobs(
                active=active,
                waiting=waiting,
                max_active=per_user,
                max_waiting=self._max_waiting,
            )

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
        return await self._book.store.usage_records(
            since=since, guild_id=guild_id, requester_id=requester_id
        )
