"""When in a run failures come: a window only where they cluster, widened for what a few
samples miss, and what the adaptive schedule does with it."""

from __future__ import annotations

import random

import pytest

from bot.jobs.failure_timing import FailureTiming
from bot.jobs.model import JobState
from bot.jobs.polling import AdaptivePolling, FixedPolling
from tests.bot.jobs.test_polling import learned, poll_times, running_since


def timing(*shares: float) -> FailureTiming:
    failures = FailureTiming()
    for share in shares:
        failures.observe(share)
    return failures


def test_no_window_from_one_failure_or_from_failures_anywhere() -> None:
    assert timing().window() is None
    assert timing(0.1).window() is None
    assert timing(0.05, 0.5, 0.95, 0.3).window() is None


def test_clustered_failures_give_a_window_wider_than_what_was_seen() -> None:
    window = timing(0.05, 0.15, 0.1).window()
    assert window is not None
    low, high = window
    assert low == 0.0
    assert high == pytest.approx(0.15 + 0.05 + 0.05)
    late = timing(0.85, 0.95, 0.9, 0.92).window()
    assert late is not None
    assert late[0] < 0.85
    assert late[1] > 0.95


def test_failures_early_in_learned_runs_are_told_within_the_failure_gap() -> None:
    policy = learned([120.0, 122.0, 118.0, 121.0, 119.0, 120.0])
    sparse = poll_times(policy, 30.0)
    assert sparse[0] >= 15.0, "nothing learned of failures: hedged pace early"
    for share in (0.04, 0.12, 0.08):
        policy.model.observe_failure(5, share * 120.0)
    previous = 0.0
    for at in poll_times(policy, 25.0):
        assert at - previous <= policy.failure_gap + 1e-9
        previous = at
    times = poll_times(policy, 120.0)
    assert len(times) <= 120.0 / 5.0 * 0.75, "still clearly fewer requests than fixed 5 s"


def test_widely_spread_short_runs_cost_no_more_polls_than_fixed_5s_and_are_seen_sooner() -> None:
    rng = random.Random(24)
    policy = AdaptivePolling()
    for _ in range(20):
        policy.record_run(5, rng.uniform(10.0, 30.0))
    assert policy.model.trusts()
    runs = [rng.uniform(10.0, 30.0) for _ in range(500)]
    adaptive = [poll_times(policy, run) for run in runs]
    fixed = [poll_times(FixedPolling(5.0), run) for run in runs]
    assert sum(map(len, adaptive)) <= sum(map(len, fixed))
    lag = sum(times[-1] - run for times, run in zip(adaptive, runs, strict=True))
    fixed_lag = sum(times[-1] - run for times, run in zip(fixed, runs, strict=True))
    assert lag < 0.95 * fixed_lag


def test_a_runs_poll_count_is_kept_only_while_it_runs() -> None:
    policy = learned([60.0, 61.0, 59.0, 60.0])
    job = running_since(0.0)
    for elapsed in (0.0, 20.0, 40.0):
        policy.next_delay(job, elapsed)
    assert policy._spent == {job.id: (job.entered(JobState.RUNNING), 3)}
    policy.forget(job.id)
    assert policy._spent == {}
