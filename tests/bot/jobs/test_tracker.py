"""The job tracker against the RunComfy emulator: lifecycle, failures, cancels, deadlines,
fault storms, limits and fairness."""

from __future__ import annotations

import pytest

from bot.jobs.line import ServerLimits, TooManyJobs
from bot.jobs.model import Failure, JobState, NoticeState
from bot.jobs.ports import NoticeError
from bot.jobs.tracker import CancelOutcomeKind
from testkit.runcomfy import Endpoint, JobOutcome
from testkit.waiting import eventually
from tests.bot.jobs.rig import fixed, make_settings


async def test_lifecycle_to_delivery(make_rig) -> None:
    rig = await make_rig()
    tracker = await rig.start()
    job = await rig.submit()
    done = await rig.wait_for_state(job.id, JobState.DELIVERED)

    assert rig.observer.states(job.id) == [
        JobState.WAITING,
        JobState.SUBMITTING,
        JobState.QUEUED,
        JobState.RUNNING,
        JobState.COMPLETED,
        JobState.DELIVERED,
    ]
    for state in (JobState.NEW, JobState.QUEUED, JobState.RUNNING, JobState.COMPLETED):
        assert done.entered(state) is not None, f"time of {state} recorded"
    assert done.request_id in rig.emulator.jobs
    assert done.output_url == rig.emulator.output_url(done.request_id)
    assert done.cost == rig.emulator.job(done.request_id).cost
    assert done.notice is NoticeState.SENT
    assert done.notice_message_id == rig.notifier.posted[job.id]
    [delivered] = rig.notifier.calls_for(job.id)
    assert delivered.state is JobState.COMPLETED
    assert rig.emulator.submit_count == 1
    assert tracker.get(job.id) is None, "a delivered job leaves memory"


async def test_job_is_persisted_before_it_is_submitted(make_rig) -> None:
    rig = await make_rig()
    await rig.start()
    job = await rig.submit(enqueue=False)
    assert (await rig.job(job.id)).state is JobState.NEW
    assert rig.emulator.submit_count == 0


async def test_failed_generation_is_reported_with_reason(make_rig) -> None:
    rig = await make_rig()
    rig.emulator.script_outcomes(JobOutcome.fail("the model refused this prompt"))
    await rig.start()
    job = await rig.submit()
    failed = await rig.wait_for_state(job.id, JobState.FAILED)
    assert failed.failure is Failure.GENERATION_FAILED
    assert "the model refused this prompt" in (failed.failure_detail or "")
    await eventually(lambda: bool(rig.notifier.calls_for(job.id)), what="failure notice")
    assert rig.notifier.calls_for(job.id)[0].state is JobState.FAILED


async def test_cancel_while_queued_at_runcomfy(make_rig) -> None:
    rig = await make_rig(workers=0)
    tracker = await rig.start()
    job = await rig.submit()
    queued = await rig.wait_for_state(job.id, JobState.QUEUED)
    report = await tracker.cancel(job.id, by=42)
    assert report.outcome is CancelOutcomeKind.CANCELLED
    stored = await rig.job(job.id)
    assert stored.state is JobState.CANCELLED
    assert stored.cancelled_by == 42
    assert rig.emulator.job(queued.request_id).status == "cancelled"


async def test_cancel_while_waiting_in_line_sends_nothing(make_rig) -> None:
    rig = await make_rig(workers=0, settings=make_settings(limits=ServerLimits(per_user=1)))
    tracker = await rig.start()
    first = await rig.submit()
    second = await rig.submit()
    await rig.wait_for_state(first.id, JobState.QUEUED)
    assert tracker.get(second.id).state is JobState.WAITING
    assert tracker.place_in_line(second.id) == 1
    report = await tracker.cancel(second.id, by=1)
    assert report.outcome is CancelOutcomeKind.CANCELLED
    assert rig.emulator.submit_count == 1
    assert tracker.place_in_line(second.id) is None


async def test_cancel_refused_while_running_and_job_still_delivered(make_rig) -> None:
    rig = await make_rig(generation_time=60.0)
    tracker = await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.RUNNING)
    report = await tracker.cancel(job.id, by=1)
    assert report.outcome is CancelOutcomeKind.ALREADY_RUNNING
    await rig.wait_for_state(job.id, JobState.DELIVERED)


async def test_cancel_racing_with_the_start_reports_what_happened(make_rig) -> None:
    """The tracker still thinks the job is queued, but RunComfy has started it."""
    rig = await make_rig(workers=0, policy=fixed(10_000.0), generation_time=1000.0)
    tracker = await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.QUEUED)
    rig.emulator.set_workers(1)
    report = await tracker.cancel(job.id, by=1)
    assert report.outcome is CancelOutcomeKind.ALREADY_RUNNING
    assert (await rig.job(job.id)).state is JobState.RUNNING
    assert rig.emulator.job(report.job.request_id).status == "in_progress"


async def test_the_deadline_tells_the_requester_but_a_late_video_is_still_delivered(
    make_rig,
) -> None:
    """The deadline ends the member's wait, not the bot's interest in a paid job."""
    rig = await make_rig(
        settings=make_settings(deadline_seconds=120.0, late_poll_interval=20.0),
        generation_time=300.0,
    )
    await rig.start()
    job = await rig.submit()
    timed_out = await rig.wait_for_state(job.id, JobState.TIMED_OUT)
    assert (timed_out.failure, timed_out.failure_detail) == (Failure.DEADLINE_PASSED, "2")
    assert timed_out.entered(JobState.TIMED_OUT) - timed_out.entered(JobState.SUBMITTING) < 130
    await eventually(lambda: len(rig.notifier.calls_for(job.id)) == 1, what="the late notice")
    assert rig.notifier.calls_for(job.id)[0].state is JobState.TIMED_OUT

    delivered = await rig.wait_for_state(job.id, JobState.DELIVERED, within=20.0)
    calls = rig.notifier.calls_for(job.id)
    assert [call.state for call in calls] == [JobState.TIMED_OUT, JobState.COMPLETED]
    assert calls[1].notice_attempts == 1, "the video is a message of its own"
    assert delivered.output_url is not None
    assert rig.emulator.submit_count == 1


async def test_deadline_cancels_a_job_stuck_in_the_queue(make_rig) -> None:
    rig = await make_rig(workers=0, settings=make_settings(deadline_seconds=60.0))
    await rig.start()
    job = await rig.submit()
    cancelled = await rig.wait_for_state(job.id, JobState.CANCELLED)
    assert cancelled.failure is Failure.NOT_STARTED_BY_DEADLINE
    assert rig.emulator.job(cancelled.request_id).status == "cancelled"


@pytest.mark.parametrize(
    "storm",
    [
        lambda e: (
            e.rate_limit(Endpoint.STATUS, retry_after=3, times=25),
            e.rate_limit(Endpoint.RESULT, retry_after=3, times=25),
        ),
        lambda e: (e.fail(Endpoint.STATUS, 503, times=25), e.fail(Endpoint.RESULT, 500, times=25)),
    ],
    ids=["429-storm", "5xx-storm"],
)
async def test_fault_storms_while_polling_lose_nothing(make_rig, storm) -> None:
    rig = await make_rig()
    await rig.start()
    storm(rig.emulator)
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.DELIVERED, within=20.0)
    assert rig.emulator.faults_pending(Endpoint.STATUS) == 0
    assert rig.emulator.submit_count == 1
    assert len(rig.notifier.calls_for(job.id)) == 1


async def test_submit_with_unknown_outcome_is_never_resent(make_rig) -> None:
    rig = await make_rig()
    rig.emulator.reset(Endpoint.SUBMIT, after_processing=True)
    tracker = await rig.start()
    job = await rig.submit()
    unknown = await rig.wait_for_state(job.id, JobState.SUBMISSION_UNKNOWN)
    assert unknown.failure is Failure.SUBMIT_OUTCOME_UNKNOWN
    await rig.restart()
    await eventually(lambda: len(rig.notifier.calls_for(job.id)) >= 1, what="notice")
    await rig.clock.sleep(60)
    assert rig.emulator.submit_count == 1
    assert tracker is not rig.tracker


async def test_refused_for_balance_fails_at_once(make_rig) -> None:
    rig = await make_rig()
    rig.emulator.insufficient_balance()
    await rig.start()
    job = await rig.submit()
    failed = await rig.wait_for_state(job.id, JobState.FAILED)
    assert failed.failure is Failure.OUT_OF_CREDIT
    assert rig.emulator.submit_count == 1


async def test_rate_limited_submit_goes_back_in_line_and_is_sent_later(make_rig) -> None:
    rig = await make_rig()
    rig.emulator.rate_limit(Endpoint.SUBMIT, retry_after=5)
    await rig.start()
    job = await rig.submit()
    done = await rig.wait_for_state(job.id, JobState.DELIVERED)
    assert JobState.WAITING in rig.observer.states(job.id)[1:]
    assert rig.emulator.submit_count == 2, "one refused, one accepted"
    assert len(rig.emulator.jobs) == 1
    assert done.submit_attempts == 2


async def test_outage_on_submit_ends_in_a_clear_failure(make_rig) -> None:
    rig = await make_rig(settings=make_settings(submit_retries=2, submit_backoff=1.0))
    rig.emulator.fail(Endpoint.SUBMIT, 503, times=None)
    await rig.start()
    job = await rig.submit()
    failed = await rig.wait_for_state(job.id, JobState.FAILED)
    assert failed.failure is Failure.RUNCOMFY_DOWN
    assert rig.emulator.submit_count == 3, "the first try and two retries"
    assert len(rig.emulator.jobs) == 0


async def test_notice_failures_are_retried_then_recorded(make_rig) -> None:
    rig = await make_rig(settings=make_settings(notice_backoff=1.0, notice_retries=3))
    rig.notifier.failures = [NoticeError("discord is down", retryable=True)] * 2
    await rig.start()
    job = await rig.submit()
    done = await rig.wait_for_state(job.id, JobState.DELIVERED)
    assert done.notice_attempts == 3
    assert len(rig.notifier.calls_for(job.id)) == 3

    rig.notifier.failures = [NoticeError("channel deleted", retryable=False)]
    second = await rig.submit()
    await eventually(lambda: bool(rig.notifier.calls_for(second.id)), what="attempt")
    await eventually(
        lambda: any(
            j.id == second.id and j.state is JobState.DELIVERY_FAILED for j in rig.observer.seen
        ),
        what="visible failed notice",
    )
    stored = await rig.job(second.id)
    assert stored.state is JobState.DELIVERY_FAILED
    assert stored.output_url is not None, "the link stays available"
    assert stored.notice_error == "channel deleted"
    assert stored.id not in {job.id for job in await rig.store.load_open()}


async def test_per_user_limit_and_waiting_cap(make_rig) -> None:
    rig = await make_rig(
        workers=0, settings=make_settings(limits=ServerLimits(per_user=2), max_waiting_per_user=2)
    )
    tracker = await rig.start()
    jobs = [await rig.submit(user=7) for _ in range(4)]
    await eventually(
        lambda: sum(tracker.get(j.id).state is JobState.QUEUED for j in jobs) == 2,
        what="two submitted",
    )
    assert [tracker.get(j.id).state for j in jobs[2:]] == [JobState.WAITING] * 2
    with pytest.raises(TooManyJobs, match="2 active and 2 waiting"):
        await rig.submit(user=7)
    other = await rig.submit(user=8)
    await rig.wait_for_state(other.id, JobState.QUEUED)


async def test_per_server_and_total_limits(make_rig) -> None:
    rig = await make_rig(
        workers=0,
        settings=make_settings(limits=ServerLimits(per_user=5, per_server=2), max_active_total=3),
    )
    tracker = await rig.start()
    a = [await rig.submit(user=u, guild=1) for u in (1, 2, 3)]
    b = [await rig.submit(user=u, guild=2) for u in (4, 5)]
    await eventually(lambda: rig.emulator.submit_count == 3, what="three submits")
    await rig.clock.sleep(20)
    states = {job.id: tracker.get(job.id).state for job in a + b}
    assert sum(states[j.id] is JobState.QUEUED for j in a) == 2, "per-server limit"
    assert sum(states[j.id] is JobState.QUEUED for j in b) == 1, "total limit"
    assert rig.emulator.submit_count == 3


async def test_two_users_with_ten_requests_each_alternate(make_rig) -> None:
    rig = await make_rig(
        generation_time=20.0,
        settings=make_settings(
            limits=ServerLimits(per_user=1), max_active_total=1, max_waiting_per_user=10
        ),
    )
    await rig.start()
    for _ in range(10):
        await rig.submit(user=1, enqueue=False)
    for _ in range(10):
        await rig.submit(user=2, enqueue=False)
    for job_id in range(1, 21):
        await rig.tracker.enqueue(job_id, status_message_id=job_id)
    await eventually(
        lambda: sum(j.state is JobState.DELIVERED for j in rig.observer.seen) == 20,
        within=30.0,
        what="all delivered",
    )
    submitted_by = [j.requester_id for j in rig.observer.seen if j.state is JobState.SUBMITTING]
    assert submitted_by == [1, 2] * 10


async def test_many_jobs_share_the_global_rate_cap(make_rig) -> None:
    rate = 20.0
    rig = await make_rig(
        rate_per_second=rate,
        generation_time=20.0,
        policy=fixed(1.0),
        settings=make_settings(
            limits=ServerLimits(per_user=50, per_server=50), max_active_total=50
        ),
    )
    await rig.start()
    jobs = [await rig.submit(user=u % 10) for u in range(40)]
    await eventually(
        lambda: all(
            any(s.id == j.id and s.state is JobState.DELIVERED for s in rig.observer.seen)
            for j in jobs
        ),
        within=60.0,
        what="every job delivered",
    )
    times = sorted(r.at for r in rig.emulator.requests if r.endpoint is not Endpoint.FILE)
    assert len(times) > 3 * rate, "enough traffic to press against the cap"
    # Arrival times carry scheduling jitter (1 ms real is 0.2 s here), hence one spare second.
    window = 10.0
    allowed = rig.gate.burst + rate * (window + 1.0)
    for index, start in enumerate(times):
        inside = sum(1 for t in times[index:] if t < start + window)
        assert inside <= allowed, f"{inside} requests in {window} s"
    assert rig.gate.peak_in_flight <= 10


async def test_cancel_while_submitting_waits_for_the_submit_then_cancels(make_rig) -> None:
    rig = await make_rig(workers=0)
    rig.emulator.slow(Endpoint.SUBMIT, 0.3)
    tracker = await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.SUBMITTING)
    report = await tracker.cancel(job.id, by=5)
    assert report.outcome is CancelOutcomeKind.CANCELLED
    [emulated] = rig.emulator.jobs.values()
    assert emulated.status == "cancelled"
    assert (await rig.job(job.id)).request_id == emulated.request_id
