"""The adaptive poll schedule: bounded lag until recent runs confirm the model (cold
start, a change of RunComfy's speed, an unseen video length, a job late beyond the
model), then sparse early in a run and dense near the expected finish."""

from __future__ import annotations

import itertools
import random

from bot.jobs.model import Job, JobState
from bot.jobs.polling import AdaptivePolling, FixedPolling, LagBound, PollPolicy
from bot.runcomfy.request import KlingRequest
from tests.bot.jobs.factories import make_job

BOUND = LagBound()


JOB_IDS = itertools.count(1)


def running_since(start: float, duration: int = 5) -> Job:
    """A new job (its own id: the schedule counts each run's polls) running since `start`."""
    request = KlingRequest(prompt="a red fox running through snow", duration=duration)
    return make_job(next(JOB_IDS), state=JobState.RUNNING, at=start, request=request)


def queued_since(start: float, position: int | None = None) -> Job:
    return make_job(state=JobState.QUEUED, at=start, queue_position=position)


def learned(seconds: list[float], duration: int = 5) -> AdaptivePolling:
    policy = AdaptivePolling()
    for value in seconds:
        policy.record_run(duration, value)
    return policy


def poll_times(policy: PollPolicy, until: float, job: Job | None = None) -> list[float]:
    """When a job running (or queued) since 0 is polled, following the policy's delays,
    up to the first poll at or after `until`."""
    job = job or running_since(0.0)
    now, times = 0.0, []
    while now < until:
        now += policy.next_delay(job, now)
        times.append(now)
    policy.forget(job.id)
    return times


def assert_bounded(times: list[float]) -> None:
    previous = 0.0
    for at in times:
        assert at - previous <= BOUND.gap(previous) + 1e-9, (previous, at)
        previous = at


def test_fixed_polling_is_fixed() -> None:
    policy = FixedPolling(5.0)
    assert policy.next_delay(running_since(0.0), 1.0) == 5.0
    assert policy.next_delay(queued_since(0.0, position=9), 1.0) == 5.0


def test_a_cold_start_with_runs_far_shorter_than_any_guess_keeps_the_bound() -> None:
    policy = AdaptivePolling()
    runs = [12.0, 10.0, 14.0, 11.0, 13.0, 12.0]
    for run in runs:
        times = poll_times(policy, run)
        if not policy.model.trusts():
            assert_bounded(times)
        assert times[-1] - run <= BOUND.gap(run), "the finish is seen within the bound"
        policy.record_run(5, times[-1])
    assert policy.model.trusts()


def test_a_failure_after_three_seconds_is_seen_within_the_bound() -> None:
    times = poll_times(AdaptivePolling(), 3.0)
    assert times[-1] - 3.0 <= BOUND.floor


def test_queued_jobs_obey_the_bound_from_when_they_were_queued() -> None:
    cold, warm = AdaptivePolling(), learned([300.0, 310.0, 305.0, 295.0, 300.0])
    for policy in (cold, warm):
        for position in (None, 0, 50):
            job = queued_since(0.0, position)
            for now in (0.0, 3.0, 30.0, 600.0):
                assert policy.next_delay(job, now) <= max(5.0, 0.25 * now)


def test_learned_runs_make_polls_sparse_early_and_dense_near_the_finish() -> None:
    policy = learned([62.0, 65.0, 68.0, 64.0, 66.0, 63.0, 67.0])
    expected = policy.expected_run(5)
    assert expected is not None
    assert 63.0 <= expected.middle <= 67.0
    job = running_since(0.0)
    delays = [policy.next_delay(job, elapsed) for elapsed in (0.0, 30.0, 50.0, 60.0, 65.0)]
    assert delays[0] >= 15.0, "no point asking long before the learned finish"
    assert delays[-1] <= 2.5
    assert delays == sorted(delays, reverse=True)
    times = poll_times(policy, 65.0)
    assert len(times) <= 65.0 / 5.0 * 0.75, "clearly fewer requests than fixed 5 s"
    assert times[-1] - 65.0 <= 2.0, "the finish is noticed within two seconds"


def test_even_a_trusted_model_is_polled_at_a_hedged_pace_early() -> None:
    policy = learned([600.0, 610.0, 590.0, 605.0, 600.0])
    previous = 0.0
    for at in poll_times(policy, 400.0):
        assert at - previous <= max(15.0, 0.5 * previous) + 1e-9
        previous = at


def test_a_noisier_history_starts_dense_polling_earlier() -> None:
    tight = learned([64.0, 65.0, 65.0, 66.0, 65.0, 64.5])
    noisy = learned([55.0, 75.0, 62.0, 70.0, 58.0, 66.0])
    tight_times, noisy_times = poll_times(tight, 100.0), poll_times(noisy, 100.0)
    assert sum(t < 55.0 for t in noisy_times) > sum(t < 55.0 for t in tight_times)


def test_a_run_late_beyond_the_model_falls_back_to_the_bound() -> None:
    policy = learned([60.0, 61.0, 62.0, 59.0, 60.0])
    job = running_since(0.0)
    for elapsed in (100.0, 200.0, 1000.0):
        assert policy.next_delay(job, elapsed) <= BOUND.gap(elapsed)


def adapts_within(policy: AdaptivePolling, run: float, runs: int) -> int:
    """How many runs of `run` seconds until the model trusts a middle near it again,
    checking the bound on every job polled while it does not."""
    for count in range(1, runs + 1):
        trusted = policy.model.trusts()
        times = poll_times(policy, run)
        if not trusted:
            assert_bounded(times)
        policy.record_run(5, run)
        expected = policy.expected_run(5)
        assert expected is not None
        if policy.model.trusts() and abs(expected.middle - run) <= 0.1 * run:
            return count
    raise AssertionError(f"did not adapt to {run} s runs within {runs} runs")


def test_a_change_of_speed_is_noticed_and_learned_within_a_few_runs() -> None:
    policy = learned([60.0, 61.0, 59.0, 60.0, 62.0, 58.0, 60.0, 61.0])
    policy.record_run(5, 20.0)
    assert not policy.model.trusts(), "one run 3× faster is enough to stop betting"
    assert_bounded(poll_times(policy, 20.0))
    assert adapts_within(policy, 20.0, 5) <= 5
    assert adapts_within(policy, 60.0, 6) <= 6


def test_a_lone_outlier_distrusts_the_model_but_does_not_move_it() -> None:
    policy = learned([60.0, 61.0, 59.0, 60.0, 62.0, 58.0])
    before = policy.expected_run(5)
    policy.record_run(5, 150.0)
    after = policy.expected_run(5)
    assert before is not None
    assert after is not None
    assert not policy.model.trusts()
    assert abs(after.middle - before.middle) < 0.05 * before.middle


def test_history_is_per_video_length_and_an_unseen_one_borrows_with_a_wider_spread() -> None:
    policy = AdaptivePolling()
    for _ in range(5):
        policy.record_run(3, 30.0)
        policy.record_run(15, 180.0)
    short, long, unseen = (policy.expected_run(length) for length in (3, 15, 10))
    assert short is not None
    assert long is not None
    assert unseen is not None
    assert abs(short.middle - 30.0) < 1.0
    assert abs(long.middle - 180.0) < 1.0
    assert 100.0 <= unseen.middle <= 130.0
    assert unseen.spread / unseen.middle > 2 * long.spread / long.middle


def test_every_delay_is_within_limits_and_cold_delays_within_the_bound() -> None:
    rng = random.Random(2026)
    for _ in range(300):
        policy = AdaptivePolling()
        scale = rng.choice((10.0, 60.0, 300.0))
        for _ in range(rng.randrange(0, 12)):
            policy.record_run(rng.choice((3, 5, 10)), scale * rng.uniform(0.3, 3.0))
        duration = rng.choice((3, 5, 10, 15))
        trusted = policy.model.trusts()
        for _ in range(10):
            elapsed = rng.uniform(0.0, 4 * scale)
            for job in (running_since(0.0, duration), queued_since(0.0, rng.randrange(5))):
                delay = policy.next_delay(job, elapsed)
                assert policy.min_interval <= delay <= policy.max_interval
                if job.state is JobState.QUEUED:
                    assert delay <= max(5.0, 0.25 * elapsed) + 1e-9
                elif not trusted:
                    assert delay <= BOUND.gap(elapsed) + 1e-9
