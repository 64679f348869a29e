"""Closing the tracker: the final messages and submits under way get the grace, nothing
new starts, and a hurry cuts the grace short."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bot.jobs.model import Job, JobState, NoticeState
from bot.runcomfy.gate import RequestGate
from testkit.waiting import eventually
from tests.bot.jobs.rig import FakeNotifier, make_settings


@dataclass
class SlowNotifier(FakeNotifier):
    """Posts once `landing` is set: a video upload that takes a while."""

    landing: asyncio.Event = field(default_factory=asyncio.Event)
    started: list[int] = field(default_factory=list)

    async def send_notice(self, job: Job) -> int | None:
        self.started.append(job.id)
        await self.landing.wait()
        return await super().send_notice(job)


async def test_a_video_on_its_way_lands_before_the_tracker_closes(make_rig) -> None:
    rig = await make_rig(settings=make_settings(shutdown_grace=20.0))
    notifier = SlowNotifier()
    await rig.start(notifier=notifier)
    job = await rig.submit()
    await eventually(lambda: job.id in notifier.started, what="the upload under way")
    closing = asyncio.create_task(rig.stop())
    await asyncio.sleep(0.2)
    assert not closing.done(), "the grace waits for the upload"
    notifier.landing.set()
    await asyncio.wait_for(closing, 5)
    stored = await rig.job(job.id)
    assert stored.state is JobState.DELIVERED
    assert stored.notice_message_id == notifier.posted[job.id]


async def test_the_grace_ends_a_video_that_takes_too_long(make_rig) -> None:
    rig = await make_rig(settings=make_settings(shutdown_grace=0.3))
    notifier = SlowNotifier()
    await rig.start(notifier=notifier)
    job = await rig.submit()
    await eventually(lambda: job.id in notifier.started, what="the upload under way")
    started = time.monotonic()
    await rig.stop()
    assert 0.25 < time.monotonic() - started < 3.0
    assert (await rig.job(job.id)).notice is NoticeState.SENDING, "resent at the next start"


async def test_a_hurry_cuts_the_grace_short(make_rig) -> None:
    rig = await make_rig(settings=make_settings(shutdown_grace=60.0))
    notifier = SlowNotifier()
    tracker = await rig.start(notifier=notifier)
    job = await rig.submit()
    await eventually(lambda: job.id in notifier.started, what="the upload under way")
    started = time.monotonic()
    closing = asyncio.create_task(rig.stop())
    await asyncio.sleep(0.1)
    tracker.hurry()
    await asyncio.wait_for(closing, 5)
    assert time.monotonic() - started < 3.0


async def test_a_submit_still_waiting_for_its_turn_is_not_sent_and_stays_in_line(
    make_rig,
) -> None:
    """RunComfy's gate holds the second submit (one request per 200 clock seconds):
    closing does not wait for its turn, and it is never sent."""
    rig = await make_rig(settings=make_settings(shutdown_grace=20.0))
    rig.gate = RequestGate(rig.clock, rate_per_second=0.005, max_concurrency=10)
    await rig.start()
    first = await rig.submit("first")
    second = await rig.submit("second", user=2)
    await rig.wait_for_state(first.id, JobState.QUEUED, JobState.RUNNING)
    started = time.monotonic()
    await rig.stop()
    assert time.monotonic() - started < 0.5
    assert (await rig.job(second.id)).state is JobState.WAITING
    assert rig.emulator.submit_count == 1
