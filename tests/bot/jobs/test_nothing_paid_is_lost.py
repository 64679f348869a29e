"""Issue 11's bad days, on the tracker: a database that refuses writes, a deadline passed
mid-generation, a long Discord outage, a stale copy written back, contradictory answers,
a revoked RunComfy token, and servers or channels that go away."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.jobs.line import NotTakingJobs, ServerLimits
from bot.jobs.model import Failure, Job, JobOrigin, JobState, NoticeState
from bot.jobs.ports import NoticeError, StoreError
from bot.runcomfy.request import KlingRequest
from testkit.runcomfy import Endpoint, JobOutcome
from testkit.waiting import eventually
from tests.bot.jobs.rig import FakeNotifier, Rig, fixed, make_settings


class RefusingSaves:
    """Makes the store refuse writes: the saves `when` picks, or every write (inserts and
    the store's own probe too) while `everything`."""

    def __init__(self, rig: Rig, when: Any = None) -> None:
        self.real = rig.store.save
        self.real_insert = rig.store.insert
        self.real_check = rig.store.check_writable
        self.when = when
        self.everything = False
        self.refused = 0
        rig.store.save = self.save  # type: ignore[method-assign]
        rig.store.insert = self.insert  # type: ignore[method-assign]
        rig.store.check_writable = self.check_writable  # type: ignore[method-assign]

    async def save(self, job: Job) -> Job:
        if self.everything or (self.when is not None and self.when(job)):
            self.refused += 1
            raise StoreError("OperationalError: database is locked")
        return await self.real(job)

    async def insert(self, job: Job) -> Job:
        if self.everything:
            raise StoreError("OperationalError: database is locked")
        return await self.real_insert(job)

    async def check_writable(self) -> None:
        if self.everything:
            raise StoreError("OperationalError: database is locked")
        await self.real_check()


async def test_a_refused_write_after_a_paid_submit_is_retried_until_it_lands(
    make_rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await make_rig(settings=make_settings(store_retry_delay=1.0))
    refusals = {"left": 4}

    def queued_write(job: Job) -> bool:
        if job.state is JobState.QUEUED and refusals["left"] > 0:
            refusals["left"] -= 1
            return True
        return False

    RefusingSaves(rig, queued_write)
    await rig.start()
    with caplog.at_level(logging.INFO):
        job = await rig.submit()
        delivered = await rig.wait_for_state(job.id, JobState.DELIVERED, within=20)
    assert refusals["left"] == 0, "the write was refused four times"
    assert delivered.request_id is not None
    assert rig.emulator.submit_count == 1, "never sent twice"
    assert delivered.request_id in caplog.text, "the request id is logged at once"


async def test_a_refusing_database_holds_the_line_without_spinning(
    make_rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await make_rig(settings=make_settings(store_retry_delay=5.0))
    saves = RefusingSaves(rig)
    await rig.start()
    with caplog.at_level(logging.ERROR):
        job = await rig.submit()
        saves.everything = True
        await eventually(lambda: saves.refused >= 1, what="the first refused write")
        await rig.clock.sleep(60)
        with pytest.raises(NotTakingJobs):
            await rig.tracker.create(
                KlingRequest(prompt="another"), JobOrigin(requester_id=9, channel_id=500)
            )
    assert saves.refused <= 60 / 5 + 3, "retried every few seconds, not at once"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert 1 <= len(errors) <= 2, "one clear ERROR a minute"
    assert all(r.exc_info is None for r in errors), "no tracebacks"
    assert rig.emulator.submit_count == 0, "nothing is sent before it is recorded"
    saves.everything = False
    await rig.wait_for_state(job.id, JobState.DELIVERED, within=20)
    assert rig.emulator.submit_count == 1


async def test_a_discord_outage_longer_than_the_quick_retries_is_waited_out(
    make_rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await make_rig(
        settings=make_settings(notice_backoff=0.5, notice_backoff_cap=2.0, notice_retries=3)
    )
    rig.notifier.failures = [NoticeError("Discord error 503", retryable=True)] * 12
    await rig.start()
    with caplog.at_level(logging.ERROR):
        job = await rig.submit()
        delivered = await rig.wait_for_state(job.id, JobState.DELIVERED, within=20)
    assert delivered.notice_attempts == 13
    outage = [r for r in caplog.records if "keeps trying" in r.getMessage()]
    assert len(outage) == 1, "one ERROR when the quick retries are spent"


async def test_what_changed_while_the_video_was_posted_is_kept(make_rig) -> None:
    rig = await make_rig()

    class AnnotatingNotifier(FakeNotifier):
        async def send_notice(self, job: Job) -> int | None:
            assert rig.tracker is not None
            await rig.tracker.annotate(job.id, deleted_by=77)
            return await super().send_notice(job)

    await rig.start(notifier=AnnotatingNotifier())
    job = await rig.submit()
    delivered = await rig.wait_for_state(job.id, JobState.DELIVERED)
    assert delivered.deleted_by == 77, "no stale copy written back"
    assert delivered.notice is NoticeState.SENT


async def test_contradictory_answers_back_off(make_rig) -> None:
    """The status says completed, the result says not yet: ask again less and less often."""
    rig = await make_rig(
        settings=make_settings(
            first_poll_within=20.0, result_pending_delay=1.0, result_pending_cap=20.0
        ),
        policy=fixed(30.0),
        generation_time=5.0,
    )
    rig.emulator.stale_result(times=None)
    await rig.start()
    job = await rig.submit()
    await eventually(lambda: rig.emulator.count(Endpoint.RESULT) >= 1, what="the first result")
    before = rig.emulator.count(Endpoint.RESULT)
    await rig.clock.sleep(120)
    asked = rig.emulator.count(Endpoint.RESULT) - before
    assert asked <= 12, f"{asked} result requests in two minutes"
    rig.emulator.clear_faults(Endpoint.RESULT)
    await rig.wait_for_state(job.id, JobState.DELIVERED, within=30)


async def test_a_revoked_token_pauses_submits_and_is_named(
    make_rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await make_rig(
        workers=0,
        settings=make_settings(
            limits=ServerLimits(per_user=1), poll_error_delay=5.0, token_probe_interval=30.0
        ),
    )
    await rig.start()
    first = await rig.submit()
    await rig.wait_for_state(first.id, JobState.QUEUED)
    token = rig.emulator.token
    with caplog.at_level(logging.ERROR):
        rig.emulator.token = "revoked"
        second = await rig.submit()
        await eventually(
            lambda: any(
                j.id == first.id and j.failure is Failure.TOKEN_REVOKED for j in rig.observer.seen
            ),
            what="the running job to carry the note",
        )
        with pytest.raises(NotTakingJobs):
            await rig.tracker.create(
                KlingRequest(prompt="third"), JobOrigin(requester_id=5, channel_id=500)
            )
    assert "RUNCOMFY_API_TOKEN" in caplog.text
    assert (await rig.job(second.id)).state is JobState.WAITING, "nothing submitted meanwhile"
    rig.emulator.token = token
    rig.emulator.set_workers(2)
    await rig.wait_for_state(first.id, JobState.DELIVERED, within=30)
    await rig.wait_for_state(second.id, JobState.DELIVERED, within=30)
    assert rig.emulator.submit_count == 2


async def test_leaving_a_server_cancels_what_is_free_and_records_why(make_rig) -> None:
    rig = await make_rig(workers=0, settings=make_settings(limits=ServerLimits(per_user=1)))
    await rig.start()
    queued = await rig.submit()
    await rig.wait_for_state(queued.id, JobState.QUEUED)
    waiting = await rig.submit()
    elsewhere = await rig.submit(guild=200)
    assert rig.tracker is not None
    affected = await rig.tracker.abandon(guild_id=100, failure=Failure.SERVER_LEFT)
    assert affected == 2
    for job_id in (queued.id, waiting.id):
        stored = await rig.job(job_id)
        assert stored.state is JobState.CANCELLED
        assert stored.failure is Failure.SERVER_LEFT
        assert stored.notice is NoticeState.FAILED, "nothing is posted to a server we left"
    request_id = (await rig.job(queued.id)).request_id
    assert rig.emulator.job(request_id).status == "cancelled"
    assert (await rig.job(elsewhere.id)).state is not JobState.CANCELLED
    assert rig.emulator.submit_count == 2, "the waiting job was never sent"


async def test_a_job_the_database_cannot_put_in_line_is_refused_not_stuck(make_rig) -> None:
    rig = await make_rig()
    saves = RefusingSaves(rig, lambda job: job.state is JobState.WAITING)
    await rig.start()
    job = await rig.submit(enqueue=False)
    assert rig.tracker is not None
    with pytest.raises(NotTakingJobs):
        await rig.tracker.enqueue(job.id)
    assert saves.refused == 1
    assert rig.tracker.get(job.id) is None, "not held in memory as if it were waiting"
    assert rig.emulator.submit_count == 0


@pytest.mark.parametrize("outcome", ["video", "failure"])
async def test_a_paid_job_of_a_server_we_left_ends_without_posting(make_rig, outcome) -> None:
    rig = await make_rig(generation_time=60.0)
    if outcome == "failure":
        rig.emulator.script_outcomes(JobOutcome.fail("flagged"))
    await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.RUNNING)
    assert rig.tracker is not None
    assert await rig.tracker.abandon(guild_id=100, failure=Failure.SERVER_LEFT) == 1
    final = JobState.DELIVERY_FAILED if outcome == "video" else JobState.FAILED
    ended = await rig.wait_for_state(job.id, final, within=20)
    assert ended.failure is Failure.SERVER_LEFT
    assert ended.notice is NoticeState.FAILED
    assert rig.notifier.calls_for(job.id) == [], "nothing is posted where the bot is gone"


async def test_a_job_refused_its_place_in_line_is_settled_once_writes_work_again(
    make_rig,
) -> None:
    """Its row was stored (NEW) just before the database began refusing: left so, it
    counted towards the member's limits and daily quota until the next restart."""
    rig = await make_rig(settings=make_settings(store_retry_delay=1.0))
    saves = RefusingSaves(rig)
    await rig.start()
    job = await rig.submit(enqueue=False)
    assert rig.tracker is not None
    saves.everything = True
    with pytest.raises(NotTakingJobs):
        await rig.tracker.enqueue(job.id)
    await rig.clock.sleep(5)
    assert (await rig.job(job.id)).state is JobState.NEW, "nothing lands while refused"

    saves.everything = False
    settled = await rig.wait_for_state(job.id, JobState.CANCELLED)

    assert settled.notice is NoticeState.NOT_DUE, "the member was told at once; no notice"
    assert settled.cancelled_by is None
    assert rig.notifier.calls_for(job.id) == []
    assert rig.emulator.submit_count == 0
    assert rig.tracker.get(job.id) is None
    assert not any(rig.tracker.kept_per_job().values())
