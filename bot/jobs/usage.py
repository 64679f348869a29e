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

from bot.formatting import usd
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

    def describe(self) -> str:
        plural = "s" if self.videos != 1 else ""
        return f"{usd(self.dollars)} ({self.videos} video{plural}, {self.seconds} s)"


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
    """A request would pass a quota; the message has the numbers."""


def check_quota(
    quota: Quota,
    *,
    seconds: int,
    estimate: Decimal,
    user_today: Usage,
    server_today: Usage,
) -> None:
    """Raise `QuotaExceeded` if this request would pass the member's or the server's limit."""
    if quota.user_daily_seconds is not None:
        limit = quota.user_daily_seconds
        after = user_today.seconds + seconds
        if after > limit:
            left = max(0, limit - user_today.seconds)
            raise QuotaExceeded(
                f"This {seconds} s video would bring you to {after} s of video today, over "
                f"your daily quota of {limit} s ({user_today.seconds} s used, {left} s left). "
                "Try a shorter video, or wait until the quota resets at midnight UTC."
            )
    if quota.server_daily_budget is not None:
        budget = quota.server_daily_budget
        after_spend = server_today.dollars + estimate
        if after_spend > budget:
            left = max(Decimal(0), budget - server_today.dollars)
            raise QuotaExceeded(
                f"This video (≈ {usd(estimate)}) would bring the server's spending today "
                f"to {usd(after_spend)}, over its daily budget of {usd(budget)} "
                f"({usd(server_today.dollars)} spent, {usd(left)} left). "
                "Try a shorter video or turn sound off, or wait until midnight UTC."
            )
