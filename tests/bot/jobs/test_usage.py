"""Usage and quotas: what counts, and refusals that carry the numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.jobs.model import JobOrigin, JobState
from bot.jobs.usage import (
    DailySecondsExceeded,
    Quota,
    QuotaExceeded,
    Usage,
    UsageRecord,
    check_quota,
    day_start,
    month_start,
)
from bot.runcomfy.request import KlingRequest
from bot.wording import limit_refusal, usage_line
from tests.bot.jobs.factories import make_job
from tests.bot.jobs.rig import make_settings


def job(state: JobState, *, seconds: int = 5, cost: str | None = None, estimate: str = "0.63"):
    return make_job(
        state=state,
        request=KlingRequest(prompt="p", duration=seconds),
        estimated_cost=Decimal(estimate),
        cost=None if cost is None else Decimal(cost),
    )


def test_usage_counts_real_costs_and_estimates_but_not_uncharged_jobs() -> None:
    usage = Usage.of(
        UsageRecord.of(each)
        for each in [
            job(JobState.DELIVERED, seconds=10, cost="1.26"),
            job(JobState.RUNNING, seconds=5, estimate="0.63"),
            job(JobState.WAITING, seconds=3, estimate="0.38"),
            job(JobState.CANCELLED, seconds=15),
            job(JobState.FAILED, seconds=15),
            job(JobState.TIMED_OUT, seconds=4, estimate="0.50"),
        ]
    )
    assert usage == Usage(videos=4, seconds=22, dollars=Decimal("2.77"))
    assert usage_line(usage) == "$2.77 (4 videos, 22 s)"


def test_day_and_month_start_in_utc() -> None:
    moment = datetime(2026, 11, 25, 17, 30, tzinfo=UTC).timestamp()
    assert day_start(moment) == datetime(2026, 11, 25, tzinfo=UTC).timestamp()
    assert month_start(moment) == datetime(2026, 11, 1, tzinfo=UTC).timestamp()


def test_user_quota_refusal_has_the_numbers() -> None:
    with pytest.raises(QuotaExceeded) as refused:
        check_quota(
            Quota(user_daily_seconds=30),
            seconds=10,
            estimate=Decimal("1.26"),
            user_today=Usage(videos=3, seconds=25, dollars=Decimal(3)),
            server_today=Usage(),
        )
    assert limit_refusal(refused.value).startswith(
        "This 10 s video would bring you to 35 s of video today, over your daily quota of 30 s "
        "(25 s used, 5 s left)."
    )


def test_server_budget_refusal_has_the_numbers() -> None:
    with pytest.raises(QuotaExceeded) as refused:
        check_quota(
            Quota(server_daily_budget=Decimal("10")),
            seconds=5,
            estimate=Decimal("0.63"),
            user_today=Usage(),
            server_today=Usage(videos=15, seconds=75, dollars=Decimal("9.50")),
        )
    assert "would bring the server's spending today to $10.13" in limit_refusal(refused.value)
    assert "daily budget of $10.00 ($9.50 spent, $0.50 left)" in limit_refusal(refused.value)


def test_within_quota_passes() -> None:
    check_quota(
        Quota(user_daily_seconds=30, server_daily_budget=Decimal(10)),
        seconds=5,
        estimate=Decimal("0.63"),
        user_today=Usage(videos=1, seconds=25, dollars=Decimal(1)),
        server_today=Usage(videos=1, seconds=25, dollars=Decimal("9.37")),
    )


async def test_tracker_refuses_before_anything_is_stored_or_sent(make_rig) -> None:
    rig = await make_rig(workers=0, settings=make_settings(max_waiting_per_user=10))
    await rig.start()
    quota = Quota(user_daily_seconds=12)
    first = await rig.tracker.create(KlingRequest(prompt="a", duration=5), _origin(), quota=quota)
    await rig.tracker.enqueue(first.id)
    await rig.tracker.create(KlingRequest(prompt="b", duration=5), _origin(), quota=quota)
    with pytest.raises(DailySecondsExceeded) as refused:
        await rig.tracker.create(KlingRequest(prompt="c", duration=5), _origin(), quota=quota)
    assert (refused.value.after, refused.value.left) == (15, 2)
    assert len(await rig.store.find()) == 2
    other_user = await rig.tracker.create(
        KlingRequest(prompt="d", duration=5), _origin(user=2), quota=quota
    )
    assert other_user.id == 3


async def test_cancelled_jobs_give_their_quota_back(make_rig) -> None:
    rig = await make_rig(workers=0)
    await rig.start()
    quota = Quota(user_daily_seconds=5)
    job = await rig.tracker.create(KlingRequest(prompt="a", duration=5), _origin(), quota=quota)
    await rig.tracker.cancel(job.id, by=1)
    await rig.tracker.create(KlingRequest(prompt="b", duration=5), _origin(), quota=quota)


def _origin(user: int = 1) -> JobOrigin:
    return JobOrigin(requester_id=user, channel_id=5, guild_id=100)
