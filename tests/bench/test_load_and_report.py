"""The benchmark's own pieces: the seeded load model, percentiles and the table's verdicts."""

from __future__ import annotations

import statistics

import pytest

from bench.ack import AckResult
from bench.load import DURATION_MIX, LoadModel, channel_bound_waits, index_of
from bench.report import ack_rows, load_rows, render
from bench.stats import Summary, percentile
from bench.throughput import LoadResult


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


def _load(setting: str, polls: float, lag_p50: float) -> LoadResult:
    lag = Summary(1000, lag_p50, lag_p50 * 3, lag_p50 * 5)
    return LoadResult(
        setting=setting,
        jobs=1000,
        channels=100,
        delivered=1000,
        polls_per_job=polls,
        lag=lag,
        detection=lag,
        command_to_video=Summary(1000, 200.0, 300.0, 310.0),
        channel_floor=Summary(1000, 0.0, 1.0, 2.0),
        pace_floor=Summary(1000, 0.0, 2.0, 3.0),
        edits_per_job=2.0,
        channel_writes_per_job=1.0,
        discord_429s=0,
        peak_rss_bytes=70 * 1024 * 1024,
        cpu_per_job=0.02,
        peak_requests_per_second=100,
        peak_jobs_at_runcomfy=600,
        real_seconds=70.0,
        errors_logged=0,
    )


@pytest.mark.parametrize(
    ("adaptive", "met"),
    [((11.0, 1.5), True), ((13.0, 1.5), False), ((11.0, 3.5), False)],
)
def test_the_polling_target_needs_half_the_requests_at_no_worse_lag(adaptive, met) -> None:
    rows = load_rows(
        [_load("adaptive", *adaptive), _load("fixed 2 s", 60.0, 1.8), _load("fixed 5 s", 24.0, 3.0)]
    )
    [verdict] = [row for row in rows if row.metric.startswith("adaptive vs fixed 5 s")]
    assert verdict.met is met


def test_the_table_is_markdown_with_one_verdict_per_target() -> None:
    ack = AckResult(200, 1.0, 200, 200, Summary(200, 0.01, 0.05, 0.06), 0)
    rows = ack_rows(ack) + load_rows([_load("adaptive", 11.0, 1.5), _load("fixed 5 s", 24.0, 3)])
    table = render(rows).splitlines()
    assert table[0].startswith("| benchmark |")
    assert len(table) == len(rows) + 2
    assert sum("pass" in line or "MISS" in line for line in table) == sum(
        row.met is not None for row in rows
    )


def test_a_perfect_bot_still_waits_when_a_channel_gets_more_than_discord_allows() -> None:
    model = LoadModel()
    crowded = model.plans(200, members=10, channels=1)
    spread = model.plans(200, members=200, channels=200)
    assert max(channel_bound_waits(spread, command_window=20.0)) == 0.0
    waits = channel_bound_waits(crowded, command_window=20.0)
    assert len(waits) == 200
    assert max(waits) > 10.0, "200 videos in one channel cannot all go out at once"
