"""The seeded load model the benchmarks and the takeover scenario share, and percentiles."""

from __future__ import annotations

import statistics

import pytest

from testkit.load import DURATION_MIX, Finish, JobPlan, LoadModel, index_of, paced_waits
from testkit.stats import Summary, percentile


def test_the_load_is_the_same_every_time_and_within_the_model() -> None:
    plans = LoadModel(7).plans(500, members=50, channels=5)
    assert plans == LoadModel(7).plans(500, members=50, channels=5)
    assert plans != LoadModel(8).plans(500, members=50, channels=5)
    assert all(0 <= plan.queue_wait <= 60 for plan in plans)
    assert all(30 <= plan.generation_seconds <= 180 for plan in plans)
    assert {plan.duration for plan in plans} == {length for length, _ in DURATION_MIX}
    assert {plan.member for plan in plans} == set(range(50))
    assert all(plan.channel == plan.member % 5 for plan in plans)
    by_length = {
        length: statistics.median(p.generation_seconds for p in plans if p.duration == length)
        for length, _ in DURATION_MIX
    }
    assert list(by_length.values()) == sorted(by_length.values()), "longer videos take longer"


def test_the_emulator_callbacks_find_each_job_by_its_prompt() -> None:
    model = LoadModel(3)
    plan = model.plan(42, members=10, channels=2)
    payload = {"prompt": plan.prompt, "duration": plan.duration}
    assert index_of(plan.prompt) == 42
    assert model.queue_delay(payload) == plan.queue_wait
    assert model.generation_time(payload) == plan.generation_seconds
    assert model.queue_delay({"prompt": "someone else's prompt"}) == 0.0


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == pytest.approx(50.5)
    assert percentile(values, 0.99) == pytest.approx(99.01)
    assert Summary.of([3.0]).p99 == 3.0
    assert Summary.of([]).count == 0


def _finishes(plans: list[JobPlan]) -> list[Finish]:
    """Commands 0.1 s apart, each reaching RunComfy at once."""
    return [
        Finish(plan.channel, plan.index * 0.1 + plan.queue_wait + plan.generation_seconds)
        for plan in plans
    ]


def test_a_perfect_bot_still_waits_when_a_channel_gets_more_than_discord_allows() -> None:
    model = LoadModel()
    crowded = model.plans(200, members=10, channels=1)
    spread = model.plans(200, members=200, channels=200)
    assert max(paced_waits(_finishes(spread))) == 0.0
    waits = paced_waits(_finishes(crowded))
    assert len(waits) == 200
    assert max(waits) > 10.0, "200 videos in one channel cannot all go out at once"


def test_a_perfect_bot_keeps_its_pace_in_a_sliding_window() -> None:
    """Six videos finishing together at 4 per 5 s: four at once, the next two 5 s after
    the first and the second."""
    waits = paced_waits([Finish(0, 10.0 + n * 0.5) for n in range(6)], per_window=4)
    assert waits == [0.0, 0.0, 0.0, 0.0, 3.0, 3.0]


def test_a_perfect_bot_that_sees_a_finish_late_posts_it_after_those_seen_sooner() -> None:
    """The first video is seen 3 s after it finished, so the second, seen at once, takes
    the one slot; the waits count from each finish."""
    finishes = [Finish(0, 0.0, seen=3.0), Finish(0, 1.0)]
    assert paced_waits(finishes, per_window=1, window=5.0) == [0.0, 6.0]
