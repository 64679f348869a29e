"""Leaving a server, or losing a channel, spends nothing more: a job of a server or channel
that is gone is never sent to RunComfy, whether the departure was reported (here, or by
another process) or the Discord side says so when the job's turn comes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.jobs.context import TrackerContext
from bot.jobs.departures import Departures, Reachable
from bot.jobs.line import ServerLimits
from bot.jobs.model import Failure, Job, JobOrigin, JobState, NoticeState
from bot.jobs.polling import FixedPolling
from bot.jobs.ports import StoreError
from testkit.waiting import eventually
from tests.bot.jobs.factories import make_job
from tests.bot.jobs.rig import make_settings

QUIET = 0.5
"""Real seconds (100 clock seconds) to watch that nothing more is sent."""


@dataclass
class GoneHere:
    """The Discord side as a test double: the servers and channels it says are gone."""

    servers: set[int] = field(default_factory=set)
    channels: set[int] = field(default_factory=set)
    asked: list[tuple[int | None, int]] = field(default_factory=list)

    async def lost(self, guild_id: int | None, channel_id: int) -> Failure | None:
        self.asked.append((guild_id, channel_id))
        if guild_id in self.servers:
            return Failure.SERVER_LEFT
        if channel_id in self.channels:
            return Failure.CHANNEL_GONE
        return None


async def test_jobs_released_while_a_server_is_left_are_never_sent(make_rig) -> None:
    """Each queued job is cancelled at RunComfy in turn, and each cancel frees a slot the
    line hands to a job waiting in the same server: those used to be sent (and, with
    RunComfy's workers idle, generated and billed)."""
    rig = await make_rig(workers=0)
    await rig.start()
    queued = [await rig.submit(f"queued {n}") for n in range(2)]
    for job in queued:
        await rig.wait_for_state(job.id, JobState.QUEUED)
    waiting = [await rig.submit(f"waiting {n}") for n in range(3)]
    assert rig.tracker is not None
    assert [rig.tracker.get(job.id).state for job in waiting] == [JobState.WAITING] * 3

    assert await rig.tracker.abandon(guild_id=100, failure=Failure.SERVER_LEFT) == 5
    await asyncio.sleep(QUIET)

    assert rig.emulator.submit_count == 2, "only the submits already sent"
    for job in queued + waiting:
        stored = await rig.job(job.id)
        assert stored.state is JobState.CANCELLED
        assert (stored.failure, stored.notice) == (Failure.SERVER_LEFT, NoticeState.FAILED)
    assert [job.status for job in rig.emulator.jobs.values()] == ["cancelled"] * 2


async def test_a_job_whose_server_the_discord_side_says_is_gone_is_not_sent(make_rig) -> None:
    """No event reached this process (it went to another one, or came while the bot was
    down): the Discord side's answer stops the job when its turn comes."""
    rig = await make_rig()
    gone = GoneHere(servers={100}, channels={501})
    await rig.start(destinations=gone)
    left = await rig.submit("in a server the bot left")
    assert rig.tracker is not None
    hidden = await rig.tracker.create(
        left.request, JobOrigin(requester_id=2, channel_id=501, guild_id=200)
    )
    await rig.tracker.enqueue(hidden.id)
    kept = await rig.submit("elsewhere", guild=200)

    await rig.wait_for_state(kept.id, JobState.QUEUED, JobState.RUNNING)
    stopped = await rig.wait_for_state(left.id, JobState.CANCELLED)
    assert (stopped.failure, stopped.notice) == (Failure.SERVER_LEFT, NoticeState.FAILED)
    lost = await rig.wait_for_state(hidden.id, JobState.CANCELLED)
    assert lost.failure is Failure.CHANNEL_GONE
    assert (100, 500) in gone.asked
    await asyncio.sleep(QUIET)
    assert rig.emulator.submit_count == 1, "only the job whose server is still there"
    assert rig.notifier.calls_for(left.id) == [], "nowhere to post"


async def test_what_the_discord_side_says_stops_the_other_jobs_there_too(make_rig) -> None:
    """A process that heard no event (another process did, or it was down) learns of the
    departure at a submit: the jobs it holds there are then stopped as if it had heard."""
    rig = await make_rig(workers=0, settings=make_settings(limits=ServerLimits(per_user=1)))
    gone = GoneHere()
    await rig.start(destinations=gone)
    queued = await rig.submit("queued before the bot was removed")
    await rig.wait_for_state(queued.id, JobState.QUEUED)
    waiting = await rig.submit("waiting behind it")
    gone.servers.add(100)

    refused = await rig.submit("another member's", user=2)
    assert (await rig.wait_for_state(refused.id, JobState.CANCELLED)).failure is (
        Failure.SERVER_LEFT
    )
    for job in (queued, waiting):
        stopped = await rig.wait_for_state(job.id, JobState.CANCELLED)
        assert (stopped.failure, stopped.notice) == (Failure.SERVER_LEFT, NoticeState.FAILED)
    request_id = (await rig.job(queued.id)).request_id
    assert request_id is not None
    assert rig.emulator.job(request_id).status == "cancelled", "free while queued"
    await asyncio.sleep(QUIET)
    assert rig.emulator.submit_count == 1
    assert len(gone.asked) == 2, "asked at the two submits only"


async def test_back_in_a_server_its_new_jobs_go_ahead(make_rig) -> None:
    rig = await make_rig()
    await rig.start()
    assert rig.tracker is not None
    await rig.tracker.abandon(guild_id=100, failure=Failure.SERVER_LEFT)
    refused = await rig.submit("before the bot is back")
    assert (await rig.wait_for_state(refused.id, JobState.CANCELLED)).failure is (
        Failure.SERVER_LEFT
    )
    await rig.tracker.reachable_again(guild_id=100)
    back = await rig.submit("after the bot is back")
    await rig.wait_for_state(back.id, JobState.QUEUED, JobState.RUNNING)
    assert rig.emulator.submit_count == 1


async def test_a_refused_write_holds_the_job_back_until_it_can_be_stopped(make_rig) -> None:
    rig = await make_rig(settings=make_settings(store_retry_delay=20.0))
    refusals = {"left": 1}
    real_save = rig.store.save

    async def save(job: Job) -> Job:
        if job.state is JobState.CANCELLED and refusals["left"]:
            refusals["left"] -= 1
            raise StoreError("database is locked")
        return await real_save(job)

    rig.store.save = save  # type: ignore[method-assign]
    await rig.start(destinations=GoneHere(servers={100}))
    job = await rig.submit()
    stopped = await rig.wait_for_state(job.id, JobState.CANCELLED, within=15)
    assert stopped.failure is Failure.SERVER_LEFT
    assert refusals["left"] == 0, "the first try was refused"
    assert rig.emulator.submit_count == 0


async def test_the_record_of_departures_is_bounded_in_size_and_age(make_rig) -> None:
    rig = await make_rig(settings=make_settings(limits=ServerLimits()))
    context = TrackerContext.create(
        rig.store, rig.client(), clock=rig.clock, settings=rig.settings, policy=FixedPolling(2)
    )
    departures = Departures(context, Reachable(), keep_for=20.0, capacity=3)
    for guild_id in range(1, 6):
        departures.record(guild_id=guild_id, channel_id=None, failure=Failure.SERVER_LEFT)
    assert len(departures) == 3
    assert departures.known(make_job(guild_id=1)) is None, "the oldest went first"
    assert departures.known(make_job(guild_id=5)) is Failure.SERVER_LEFT
    departures.record(guild_id=None, channel_id=9, failure=Failure.CHANNEL_GONE)
    assert departures.known(make_job(guild_id=7, channel_id=9)) is Failure.CHANNEL_GONE
    departures.forget(guild_id=5, channel_id=None)
    assert departures.known(make_job(guild_id=5)) is None
    await eventually(
        lambda: departures.known(make_job(channel_id=9)) is None, what="the record to age out"
    )
    assert len(departures) == 0
