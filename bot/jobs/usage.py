"""Spend and seconds of video per member and per server, and the daily quotas on them.

A job counts from the moment it is asked for (so a burst of requests cannot slip past a
quota) until it is known not to be charged: cancelled jobs and jobs RunComfy refused
count nothing, finished jobs count their real cost once RunComfy reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from bot.jobs.line import LimitExceeded
from bot.jobs.model import Job, JobState

UNCHARGED_STATES = frozenset({JobState.CANCELLED, JobState.FAILED})


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """What usage needs to know of one job; the store reads just these columns."""

    requester_id: int
    created_at: float
    state: JobState
    seconds: int
    estimated_cost: Decimal
    cost: Decimal | None

    @classmethod
    def of(cls, job: Job) -> UsageRecord:
        return cls(
            requester_id=job.requester_id,
            created_at=job.created_at,
            state=job.state,
            seconds=job.request.effective_duration,
            estimated_cost=job.estimated_cost,
            cost=job.cost,
        )

    @property
    def counts(self) -> bool:
        """Whether the job is (or may be) paid for."""
        if self.state in UNCHARGED_STATES:
            return self.cost is not None and self.cost > 0
        return True

    @property
    def spend(self) -> Decimal:
        if self.cost is not None:
            return self.cost
        return self.estimated_cost if self.counts else Decimal(0)


@dataclass(frozen=True, slots=True)
class Usage:
    videos: int = 0
    seconds: int = 0
    dollars: Decimal = Decimal(0)

    @classmethod
    def of(cls, records: Iterable[UsageRecord]) -> Usage:
        counted = [record for record in records if record.counts]
        return cls(
            videos=len(counted),
            seconds=sum(record.seconds for record in counted),
            dollars=sum((record.spend for record in counted), Decimal(0)),
        )


def day_start(now: float) -> float:
    """Midnight UTC of the day `now` falls in: quotas reset then."""
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def month_start(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


@dataclass(frozen=True, slots=True)
class Quota:
    """Daily limits for one request: the member's seconds of video, the server's dollars."""

    user_daily_seconds: int | None = None
    server_daily_budget: Decimal | None = None

    @property
    def limits_anything(self) -> bool:
        return self.user_daily_seconds is not None or self.server_daily_budget is not None


class QuotaExceeded(LimitExceeded):
    """A request would pass a daily quota; the subclasses carry the numbers."""


class DailySecondsExceeded(QuotaExceeded):
    def __init__(self, *, seconds: int, used: int, limit: int) -> None:
        super().__init__(f"{seconds} s more over {used} s used of {limit} s")
        self.seconds = seconds
        self.used = used
        self.limit = limit

    @property
    def after(self) -> int:
        return self.used + self.seconds

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


class DailyBudgetExceeded(QuotaExceeded):
    def __init__(self, *, estimate: Decimal, spent: Decimal, budget: Decimal) -> None:
        super().__init__(f"${estimate} more over ${spent} spent of ${budget}")
        self.estimate = estimate
        self.spent = spent
        self.budget = budget

    @property
    def after(self) -> Decimal:
        return self.spent + self.estimate

    @property
    def left(self) -> Decimal:
        return max(Decimal(0), self.budget - self.spent)


def check_quota(
    quota: Quota,
    *,
    seconds: int,
    estimate: Decimal,
    user_today: Usage,
    server_today: Usage,
) -> None:
    """Raise a `QuotaExceeded` if this request would pass the member's or the server's limit."""
    limit = quota.user_daily_seconds
    if limit is not None and user_today.seconds + seconds > limit:
        raise DailySecondsExceeded(seconds=seconds, used=user_today.seconds, limit=limit)
    budget = quota.server_daily_budget
    if budget is not None and server_today.dollars + estimate > budget:
        raise DailyBudgetExceeded(estimate=estimate, spent=server_today.dollars, budget=budget)
