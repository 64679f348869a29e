"""The adaptive poll schedule: steady while queued, sparse early in a run, dense near the
expected finish, backing off when a job is far overdue; learned from finished runs."""

from __future__ import annotations

from bot.jobs.model import JobState
from bot.jobs.polling import AdaptivePolling, FixedPolling
from tests.bot.jobs.factories import make_job


def running_since(start: float):
    return make_job(state=JobState.RUNNING, at=start)


def test_fixed_polling_is_fixed() -> None:
    policy = FixedPolling(5.0)
    assert policy.next_delay(running_since(0.0), 1.0) == 5.0
    assert policy.next_delay(make_job(state=JobState.QUEUED, queue_position=9), 1.0) == 5.0


def test_queued_jobs_are_polled_less_often_the_further_back_they_are() -> None:
    policy = AdaptivePolling()
    near = policy.next_delay(make_job(state=JobState.QUEUED, queue_position=0), 0.0)
    far = policy.next_delay(make_job(state=JobState.QUEUED, queue_position=10), 0.0)
    assert near < far <= 20.0


def test_learned_run_time_sets_a_sparse_start_and_a_dense_window() -> None:
    policy = AdaptivePolling()
    for seconds in (58.0, 60.0, 61.0, 59.0, 62.0):
        policy.record_run(5, seconds)
    middle, _spread = policy.expected_run(5)
    assert 59.0 <= middle <= 61.0
    job = running_since(0.0)
    first = policy.next_delay(job, 0.0)
    assert first >= 25.0, "no point asking long before the learned finish"
    near_finish = policy.next_delay(job, middle)
    assert near_finish <= 3.0
    much_later = policy.next_delay(job, middle + 200.0)
    assert near_finish < much_later <= 15.0


def test_history_is_per_video_length() -> None:
    policy = AdaptivePolling()
    for _ in range(5):
        policy.record_run(3, 30.0)
        policy.record_run(15, 180.0)
    assert policy.expected_run(3)[0] == 30.0
    assert policy.expected_run(15)[0] == 180.0


def test_prior_scales_with_duration_before_anything_is_learned() -> None:
    policy = AdaptivePolling()
    assert policy.expected_run(15)[0] > policy.expected_run(3)[0]


def learned(seconds: list[float], duration: int = 5) -> AdaptivePolling:
    policy = AdaptivePolling()
    for value in seconds:
        policy.record_run(duration, value)
    return policy


def poll_times(policy: AdaptivePolling, until: float) -> list[float]:
    """When a job running since 0 is polled, following the policy's own delays."""
    job, now, times = running_since(0.0), 0.0, []
    while now < until:
        now += policy.next_delay(job, now)
        times.append(now)
    return times


def test_polls_get_denser_towards_the_expected_finish() -> None:
    policy = learned([60.0, 64.0, 66.0, 70.0, 62.0, 68.0, 65.0])
    job = running_since(0.0)
    delays = [policy.next_delay(job, elapsed) for elapsed in (0.0, 40.0, 50.0, 58.0, 65.0)]
    assert delays == sorted(delays, reverse=True)
    assert delays[-1] <= 2.0


def test_a_noisier_history_starts_dense_polling_earlier() -> None:
    tight = learned([64.0, 65.0, 65.0, 66.0, 65.0])
    noisy = learned([50.0, 58.0, 65.0, 72.0, 80.0])
    tight_times, noisy_times = poll_times(tight, 100.0), poll_times(noisy, 100.0)
    assert noisy_times[1] < tight_times[1] - 10.0
    assert sum(t < 60.0 for t in noisy_times) > sum(t < 60.0 for t in tight_times)


def test_a_run_far_beyond_anything_seen_is_polled_less_and_less_often() -> None:
    policy = learned([60.0, 61.0, 62.0, 59.0, 60.0])
    job = running_since(0.0)
    overdue = [policy.next_delay(job, elapsed) for elapsed in (80.0, 120.0, 600.0)]
    assert overdue == sorted(overdue)
    assert overdue[-1] == 15.0


def test_an_unseen_video_length_borrows_the_per_second_rate_of_others() -> None:
    policy = learned([60.0, 61.0, 59.0, 60.0, 60.0], duration=5)
    middle, _ = policy.expected_run(10)
    assert 115.0 <= middle <= 125.0


def test_queued_jobs_are_polled_at_a_steady_pace_whatever_they_waited() -> None:
    policy = AdaptivePolling(queue_interval=12.0)
    queued = make_job(state=JobState.QUEUED, queue_position=500, at=0.0)
    assert {policy.next_delay(queued, now) for now in (0.0, 30.0, 300.0)} == {12.0}
    unknown = make_job(state=JobState.QUEUED, queue_position=None)
    assert policy.next_delay(unknown, 0.0) == 12.0


def test_fewer_polls_than_fixed_five_seconds_for_a_learned_run() -> None:
    policy = learned([62.0, 65.0, 68.0, 64.0, 66.0, 63.0, 67.0])
    times = poll_times(policy, 65.0)
    assert len(times) <= 65.0 / 5.0 / 2
    assert times[-1] - 65.0 <= 2.0, "the finish is noticed within two seconds"
