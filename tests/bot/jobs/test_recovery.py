"""Restart recovery: stop the tracker in every state, start a new one on the same store,
and check each job carries on and is delivered exactly once."""

from __future__ import annotations

from bot.jobs.line import ServerLimits
from bot.jobs.model import Failure, JobState, NoticeState
from bot.jobs.ports import NoticeError
from bot.runcomfy.gate import RequestGate
from testkit.waiting import eventually
from tests.bot.jobs.rig import FakeNotifier, make_settings


async def test_restart_with_a_new_job_cancels_it_without_sending(make_rig) -> None:
    rig = await make_rig()
    await rig.start()
    job = await rig.submit(enqueue=False)
    await rig.restart()
    cancelled = await rig.wait_for_state(job.id, JobState.CANCELLED)
    assert cancelled.failure is Failure.RESTARTED_BEFORE_QUEUED
    await eventually(lambda: bool(rig.notifier.calls_for(job.id)), what="notice")
    assert rig.emulator.submit_count == 0


async def test_restart_with_jobs_waiting_in_line(make_rig) -> None:
    rig = await make_rig(workers=0, settings=make_settings(limits=ServerLimits(per_user=1)))
    await rig.start()
    first = await rig.submit()
    second = await rig.submit()
    await rig.wait_for_state(first.id, JobState.QUEUED)
    tracker = await rig.restart()
    assert tracker.get(second.id).state is JobState.WAITING
    rig.emulator.set_workers(2)
    for job in (first, second):
        await rig.wait_for_state(job.id, JobState.DELIVERED)
        assert len(rig.notifier.calls_for(job.id)) == 1
    assert rig.emulator.submit_count == 2


async def test_restart_while_submitting_never_resubmits(make_rig) -> None:
    """A crash after SUBMITTING was written: the POST may or may not have gone out."""
    rig = await make_rig()
    tracker = await rig.start()
    job = await rig.submit(enqueue=False)
    await rig.stop()
    now = rig.clock.now()
    crashed = job.transition(JobState.WAITING, now).transition(JobState.SUBMITTING, now)
    await rig.store.save(crashed)
    await rig.start()
    unknown = await rig.wait_for_state(job.id, JobState.SUBMISSION_UNKNOWN)
    assert unknown.failure is Failure.RESTARTED_WHILE_SUBMITTING
    await eventually(lambda: bool(rig.notifier.calls_for(job.id)), what="notice")
    await rig.clock.sleep(30)
    assert rig.emulator.submit_count == 0
    assert tracker is not rig.tracker


async def test_a_job_waiting_its_turn_at_runcomfy_s_gate_is_still_waiting(make_rig) -> None:
    """Being sent is recorded only once the request has its turn: a stop while it waited
    at the gate (RunComfy asked everyone to slow down) leaves it in line, sent later once."""
    rig = await make_rig()
    rig.gate.pause(3600)
    await rig.start()
    job = await rig.submit()
    await rig.clock.sleep(30)
    assert rig.tracker.get(job.id).state is JobState.WAITING
    await rig.stop()
    assert (await rig.job(job.id)).state is JobState.WAITING
    rig.gate = RequestGate(rig.clock, rate_per_second=50.0, max_concurrency=10)
    await rig.start()
    await rig.wait_for_state(job.id, JobState.DELIVERED)
    assert rig.emulator.submit_count == 1


async def test_restart_while_queued_and_while_running(make_rig) -> None:
    rig = await make_rig(workers=1, generation_time=60.0)
    await rig.start()
    running = await rig.submit(user=1)
    queued = await rig.submit(user=2)
    await rig.wait_for_state(running.id, JobState.RUNNING)
    await rig.wait_for_state(queued.id, JobState.QUEUED)
    await rig.restart()
    for job in (running, queued):
        await rig.wait_for_state(job.id, JobState.DELIVERED)
        assert len(rig.notifier.calls_for(job.id)) == 1
    assert rig.emulator.submit_count == 2


async def test_restart_with_a_finished_but_undelivered_job(make_rig) -> None:
    rig = await make_rig(settings=make_settings(notice_backoff=10_000.0))
    rig.notifier.failures = [NoticeError("discord is down", retryable=True)]
    await rig.start()
    job = await rig.submit()
    await eventually(lambda: bool(rig.notifier.calls_for(job.id)), what="first attempt")
    await eventually(
        lambda: any(j.id == job.id and j.notice_error for j in rig.observer.seen),
        what="failure recorded",
    )
    assert (await rig.job(job.id)).state is JobState.COMPLETED
    fresh = FakeNotifier()
    await rig.restart(notifier=fresh)
    delivered = await rig.wait_for_state(job.id, JobState.DELIVERED)
    assert len(fresh.calls_for(job.id)) == 1
    assert delivered.notice_message_id == fresh.posted[job.id]


async def test_crash_between_posting_and_recording_posts_once(make_rig) -> None:
    """The notice went out but the tracker died before writing that down."""
    rig = await make_rig()
    rig.notifier.hang_after_post = True
    await rig.start()
    job = await rig.submit()
    await eventually(lambda: job.id in rig.notifier.posted, what="the post")
    assert (await rig.job(job.id)).notice is NoticeState.SENDING
    rig.notifier.hang_after_post = False
    await rig.restart()
    delivered = await rig.wait_for_state(job.id, JobState.DELIVERED)
    calls = rig.notifier.calls_for(job.id)
    assert len(calls) == 2, "resent after the restart"
    assert calls[1].notice_attempts == 2, "the notifier is told it is a repeat"
    assert len(rig.notifier.posted) == 1
    assert delivered.notice_message_id == rig.notifier.posted[job.id]


async def test_restart_after_delivery_delivers_nothing_again(make_rig) -> None:
    rig = await make_rig()
    await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.DELIVERED)
    tracker = await rig.restart()
    await rig.clock.sleep(60)
    assert len(rig.notifier.calls_for(job.id)) == 1
    assert tracker.get(job.id) is None
    assert tracker.open_jobs() == []


async def test_restart_with_a_pending_failure_notice(make_rig) -> None:
    rig = await make_rig(settings=make_settings(notice_backoff=10_000.0))
    rig.emulator.insufficient_balance()
    rig.notifier.failures = [NoticeError("discord is down", retryable=True)]
    await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.FAILED)
    await eventually(lambda: bool(rig.notifier.calls_for(job.id)), what="first attempt")
    fresh = FakeNotifier()
    await rig.restart(notifier=fresh)
    await eventually(lambda: bool(fresh.calls_for(job.id)), what="notice after restart")
    await eventually(
        lambda: any(j.id == job.id and j.notice is NoticeState.SENT for j in rig.observer.seen),
        what="notice recorded",
    )
    assert fresh.calls_for(job.id)[0].state is JobState.FAILED
