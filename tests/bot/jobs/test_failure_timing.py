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


def test_failures_early_in_learned_runs_are_polled_at_fixed_5s_pace_there_not_more() -> None:
    """An early window comes before a sparse start saved anything: it gets fixed 5 s
    polling's pace (failures told as fast as fixed 5 s tells them), never a closer one."""
    policy = learned([120.0, 122.0, 118.0, 121.0, 119.0, 120.0])
    sparse = poll_times(policy, 30.0)
    assert sparse[0] >= 15.0, "nothing learned of failures: hedged pace early"
    for share in (0.04, 0.12, 0.08):
        policy.model.observe_failure(5, share * 120.0)
    times = poll_times(policy, 25.0)
    for count, at in enumerate(times, start=1):
        assert at <= count * policy.dense_gap + 1e-9, "no gap longer than fixed 5 s's"
        assert at >= count * policy.dense_gap - 1e-9, "no more polls than fixed 5 s by then"
    times = poll_times(policy, 120.0)
    assert len(times) <= 120.0 / 5.0 * 0.75, "still clearly fewer requests than fixed 5 s"


def test_failures_late_in_learned_runs_are_polled_closely_from_what_the_start_saved() -> None:
    policy = learned([120.0, 122.0, 118.0, 121.0, 119.0, 120.0])
    for share in (0.55, 0.6, 0.58):
        policy.model.observe_failure(5, share * 120.0)
    window = policy.model.failures.window()
    assert window is not None
    low, high = window[0] * 120.0, window[1] * 120.0
    times = poll_times(policy, high)
    inside = [at for at in times if low + policy.failure_gap <= at <= high]
    assert inside, times
    previous = max(at for at in times if at < inside[0])
    for at in inside:
        assert at - previous <= policy.failure_gap + 1e-9
        previous = at


@pytest.mark.parametrize("shares", [(0.04, 0.12, 0.08), (0.85, 0.95, 0.9)])
def test_a_failure_window_never_makes_widely_spread_runs_dearer_than_fixed_5s(
    shares: tuple[float, ...],
) -> None:
    rng = random.Random(7)
    for low, high in ((10.0, 30.0), (30.0, 60.0), (40.0, 120.0)):
        policy = AdaptivePolling()
        for _ in range(20):
            policy.record_run(5, rng.uniform(low, high))
        for share in shares:
            policy.model.observe_failure(5, share * (low + high) / 2)
        if not policy.model.trusts():
            continue
        runs = [rng.uniform(low, high) for _ in range(300)]
        adaptive = sum(len(poll_times(policy, run)) for run in runs)
        fixed = sum(len(poll_times(FixedPolling(5.0), run)) for run in runs)
        assert adaptive <= fixed, (low, high, adaptive, fixed)


def test_an_untrusted_model_with_a_failure_window_polls_as_fixed_5s() -> None:
    policy = AdaptivePolling()
    assert not policy.model.trusts()
    policy.record_run(5, 60.0)
    for share in (0.04, 0.12, 0.08):
        policy.model.observe_failure(5, share * 60.0)
    assert policy.model.failures.window() is not None
    times = poll_times(policy, 60.0)
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    assert all(gap >= 5.0 - 1e-9 for gap in gaps), gaps


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


def test_a_run_first_met_under_way_counts_as_polled_at_fixed_pace_so_far() -> None:
    """After a restart or a take-over the polls already made are unknown: taking them as
    none would let the dense finish come on top of them."""
    policy = learned([120.0, 122.0, 118.0, 121.0, 119.0, 120.0])
    resumed = running_since(0.0)
    policy.next_delay(resumed, 100.0)
    assert policy.runs_counted == 1
    assert policy._spent[resumed.id] == (0.0, 1 + 100 // 5)
