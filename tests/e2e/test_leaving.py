"""The bot removed from a server, a channel deleted, access to a channel revoked: what was
free to cancel is cancelled (nothing more is sent or paid), what RunComfy already generates
is still watched, every affected job records why, and nothing is posted where it cannot go."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.jobs.model import Failure, Job, JobState, NoticeState
from testkit.discord import FakeChannel, FakeMember
from testkit.waiting import eventually
from tests.e2e.harness import World, is_notice

QUIET = 1.0
"""Real seconds (100 emulated) to watch that nothing more happens."""


async def stored(world: World, job_id: int) -> Job:
    assert world.bot is not None
    job = await world.bot.tracker.fetch(job_id)
    assert job is not None, f"job {job_id} is not stored"
    return job


async def until(
    check: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """`eventually` for a condition that has to read the store."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def until_failure(world: World, job_ids: list[int], failure: Failure) -> list[Job]:
    """The jobs once each records `failure`."""

    async def recorded() -> bool:
        jobs = [await stored(world, job_id) for job_id in job_ids]
        return all(job.failure is failure for job in jobs)

    await until(recorded, what=f"jobs {job_ids} to record {failure.value}")
    return [await stored(world, job_id) for job_id in job_ids]


async def start_job(world: World, member: FakeMember, channel: FakeChannel, prompt: str) -> int:
    interaction = await world.command("generate", member, in_channel=channel, prompt=prompt)
    return await world.job_id(interaction)


async def until_state(world: World, job_id: int, state: JobState) -> Job:
    async def reached() -> bool:
        return (await stored(world, job_id)).state is state

    await until(reached, what=f"job {job_id} to be {state.value}")
    return await stored(world, job_id)


def refusals_in(world: World, channel: FakeChannel) -> list[str]:
    """The bot's REST calls to the channel that Discord refused (it tried where it cannot)."""
    return [
        f"{e.method} {e.path} → {e.status}/{e.code}"
        for e in world.fake.errors
        if f"/channels/{channel.id}/" in e.path + "/"
    ]


def message_ids(world: World, channel: FakeChannel) -> set[int]:
    return {m.id for m in world.fake.channel_messages(channel, include_deleted=True)}


async def one_queued_one_waiting(world: World, channel: FakeChannel) -> tuple[int, int, str]:
    """Alice's first job queued at RunComfy and her second waiting in the bot's line
    (`MAX_ACTIVE_JOBS_PER_USER=1`, no RunComfy worker)."""
    queued = await start_job(world, world.alice, channel, "a lighthouse in a storm")
    waiting = await start_job(world, world.alice, channel, "a harbour at dusk")
    await until_state(world, queued, JobState.QUEUED)
    assert (await stored(world, waiting)).state is JobState.WAITING
    request_id = (await stored(world, queued)).request_id
    assert request_id is not None
    return queued, waiting, request_id


async def test_removed_from_a_server_cancels_what_waits_and_posts_nothing(make_world) -> None:
    world = await make_world(emulator_options={"workers": 0}, env={"MAX_ACTIVE_JOBS_PER_USER": "1"})
    queued, waiting, request_id = await one_queued_one_waiting(world, world.channel)
    assert world.emulator.submit_count == 1
    before = message_ids(world, world.channel)

    world.fake.remove_bot_from_guild(world.guild)
    jobs = await until_failure(world, [queued, waiting], Failure.SERVER_LEFT)

    assert [job.state for job in jobs] == [JobState.CANCELLED, JobState.CANCELLED]
    assert world.emulator.job(request_id).status == "cancelled", "free while queued"
    world.emulator.set_workers(2)
    await asyncio.sleep(QUIET)
    assert world.emulator.submit_count == 1, "the waiting job is never sent"
    assert world.bot is not None
    assert world.bot.tracker.open_jobs(world.guild.id) == []
    assert message_ids(world, world.channel) == before, "nothing posted to the server"
    assert refusals_in(world, world.channel) == [], "the bot did not even try"


async def test_a_video_already_generating_is_watched_but_not_posted(make_world) -> None:
    world = await make_world(
        emulator_options={"workers": 1, "generation_time": lambda payload: 200.0}
    )
    job_id = await start_job(world, world.alice, world.channel, "a slow pan over the bay")
    running = await until_state(world, job_id, JobState.RUNNING)
    before = message_ids(world, world.channel)

    world.fake.remove_bot_from_guild(world.guild)
    await until_failure(world, [job_id], Failure.SERVER_LEFT)
    assert running.request_id is not None
    assert world.emulator.job(running.request_id).status == "in_progress", "paid: not cancelled"

    async def settled() -> bool:
        return (await stored(world, job_id)).state.is_final

    await until(settled, what="the generating job to finish")
    job = await stored(world, job_id)
    assert world.emulator.job(running.request_id).status == "completed"
    assert job.state is JobState.DELIVERY_FAILED
    assert job.notice is NoticeState.FAILED
    assert job.failure is Failure.SERVER_LEFT
    assert job.output_url is not None, "the link is kept"
    assert message_ids(world, world.channel) == before
    assert refusals_in(world, world.channel) == []
    assert world.emulator.submit_count == 1


async def test_a_deleted_channel_abandons_its_jobs_only(make_world) -> None:
    world = await make_world(emulator_options={"workers": 0}, env={"MAX_ACTIVE_JOBS_PER_USER": "1"})
    other = world.fake.add_text_channel(world.guild, "other-session")
    queued, waiting, request_id = await one_queued_one_waiting(world, world.channel)
    elsewhere = await start_job(world, world.bob, other, "a kite over the dunes")
    await until_state(world, elsewhere, JobState.QUEUED)
    assert world.emulator.submit_count == 2

    world.fake.delete_channel(world.channel)
    jobs = await until_failure(world, [queued, waiting], Failure.CHANNEL_GONE)

    assert [job.state for job in jobs] == [JobState.CANCELLED, JobState.CANCELLED]
    assert world.emulator.job(request_id).status == "cancelled"
    assert (await stored(world, elsewhere)).failure is None
    world.emulator.set_workers(2)
    notice = await world.fake.wait_for_message(other, lambda m: is_notice(m, elsewhere), timeout=15)
    assert notice.attachments, "the other channel's video is delivered"
    await asyncio.sleep(QUIET)
    assert world.emulator.submit_count == 2, "the deleted channel's waiting job is never sent"
    assert (await stored(world, elsewhere)).state is JobState.DELIVERED
    assert refusals_in(world, world.channel) == [], "nothing sent to the deleted channel"


async def test_revoked_access_ends_the_final_message_with_the_reason(make_world) -> None:
    world = await make_world(emulator_options={"workers": 0})
    job_id = await start_job(world, world.alice, world.channel, "a fox in the snow")
    await until_state(world, job_id, JobState.QUEUED)

    world.fake.revoke_channel_access(world.channel)
    world.emulator.set_workers(1)

    async def gave_up() -> bool:
        return (await stored(world, job_id)).notice is NoticeState.FAILED

    await until(gave_up, within=15, what="the final message to be given up")
    job = await stored(world, job_id)
    assert job.state in (JobState.DELIVERY_FAILED, JobState.CANCELLED)
    assert job.failure is Failure.CHANNEL_GONE or "Missing Access" in (job.notice_error or "")
    attempts = job.notice_attempts
    refused = len(refusals_in(world, world.channel))
    await asyncio.sleep(QUIET)
    job = await stored(world, job_id)
    assert job.notice_attempts == attempts, "not retried"
    assert len(refusals_in(world, world.channel)) == refused <= 3
    assert world.notices(job_id) == []
    await eventually(lambda: world.emulator.submit_count == 1, what="one submit")
