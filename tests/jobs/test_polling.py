"""The adaptive poll schedule: sparse early, dense near the expected finish, learned."""

from __future__ import annotations

from bot.jobs.model import JobState
from bot.jobs.polling import AdaptivePolling, FixedPolling
from tests.jobs.factories import make_job


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
