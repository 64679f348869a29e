"""Leaving a server, or losing a channel, spends nothing more, through the real client:
the jobs waiting in the bot's line there are never sent to RunComfy, whatever frees a
slot meanwhile, also after a restart that missed the event; what RunComfy already
generates is kept, and its owner is told where the video is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bot.app import VideoBot
from bot.jobs.model import Failure, JobState
from testkit.discord import FakeChannel
from testkit.postgres import PostgresServer, create_database
from testkit.waiting import eventually
from tests.e2e.harness import World
from tests.e2e.test_leaving import QUIET, start_job, stored, until, until_failure, until_state


def held_in_queue(payload: dict[str, Any]) -> float:
    """Clock seconds a job sits in RunComfy's queue: the first ones a long while (so the
    bot can still cancel them), any later one not at all (idle workers take it at once)."""
    return 3000.0 if str(payload["prompt"]).startswith("queued") else 0.0


IDLE_WORKERS: dict[str, Any] = {"workers": 8, "queue_delay": held_in_queue}


async def queued_and_waiting(
    world: World, channel: FakeChannel | None = None
) -> tuple[list[int], list[int]]:
    """Alice's two jobs queued at RunComfy (its workers idle) and three waiting in the
    bot's line behind them (`MAX_ACTIVE_JOBS_PER_USER=2`)."""
    channel = channel or world.channel
    queued = [await start_job(world, world.alice, channel, f"queued {n}") for n in range(2)]
    waiting = [await start_job(world, world.alice, channel, f"waiting {n}") for n in range(3)]
    for job_id in queued:
        await until_state(world, job_id, JobState.QUEUED)
    for job_id in waiting:
        assert (await stored(world, job_id)).state is JobState.WAITING
    assert world.emulator.submit_count == 2
    return queued, waiting


def billed(world: World) -> list[str]:
    """The prompts RunComfy started generating (and charges for)."""
    return [
        str(job.payload["prompt"])
        for job in world.emulator.jobs.values()
        if job.started_at is not None
    ]


DEPARTURES: dict[str, tuple[Callable[[World], None], Failure]] = {
    "removed from the server": (
        lambda world: world.fake.remove_bot_from_guild(world.guild),
        Failure.SERVER_LEFT,
    ),
    "channel deleted": (
        lambda world: world.fake.delete_channel(world.channel),
        Failure.CHANNEL_GONE,
    ),
    "channel out of sight": (
        lambda world: world.fake.revoke_channel_access(world.channel),
        Failure.CHANNEL_GONE,
    ),
}


@pytest.mark.parametrize("departure", list(DEPARTURES))
async def test_nothing_more_is_sent_to_idle_workers(make_world, departure: str) -> None:
    """Each queued job is cancelled at RunComfy in turn, and each cancel frees a slot:
    the jobs waiting behind them used to be sent then, and generated and billed."""
    world = await make_world(emulator_options=IDLE_WORKERS, env={"MAX_ACTIVE_JOBS_PER_USER": "2"})
    queued, waiting = await queued_and_waiting(world)
    depart, failure = DEPARTURES[departure]

    depart(world)
    jobs = await until_failure(world, queued + waiting, failure)
    await asyncio.sleep(QUIET)

    assert world.emulator.submit_count == 2, "only the submits already sent"
    assert billed(world) == [], "nothing generated, nothing billed"
    assert [job.state for job in jobs] == [JobState.CANCELLED] * 5
    assert [job.status for job in world.emulator.jobs.values()] == ["cancelled"] * 2


async def test_a_server_left_while_the_bot_was_down_gets_nothing_more(make_world) -> None:
    """No event tells a restarted bot it was removed meanwhile: Discord leaves the server
    out of the next READY, and asked, answers Missing Access. Jobs waiting there are not
    sent when their turn comes (even before the gateway is ready); queued ones are
    cancelled at RunComfy once it is."""
    world = await make_world(emulator_options=IDLE_WORKERS, env={"MAX_ACTIVE_JOBS_PER_USER": "2"})
    queued, waiting = await queued_and_waiting(world)
    await world.stop_bot()
    world.fake.remove_bot_from_guild(world.guild)

    await world.start_bot()
    jobs = await until_failure(world, queued + waiting, Failure.SERVER_LEFT)
    await asyncio.sleep(QUIET)

    assert world.emulator.submit_count == 2, "only the submits already sent"
    assert billed(world) == []
    assert [job.state for job in jobs] == [JobState.CANCELLED] * 5
    assert [job.status for job in world.emulator.jobs.values()] == ["cancelled"] * 2


STRANDED = {
    "en": ("Your video **#{job}** is ready", "From servers the bot was removed from"),
    "de": ("Dein Video **#{job}** ist fertig", "Aus Servern, von denen der Bot entfernt wurde"),
}


@pytest.mark.parametrize("language", list(STRANDED))
async def test_a_paid_video_of_a_server_the_bot_left_reaches_its_owner(
    make_world, language: str
) -> None:
    """It is kept, not posted: its owner gets a direct message with the link (in the
    job's language), and `/video mine` in another server they share with the bot lists
    it (in their own). A member who accepts no direct messages is not written to, and
    nothing fails."""
    world = await make_world(
        start=False, emulator_options={"workers": 2, "generation_time": lambda payload: 200.0}
    )
    world.guild.preferred_locale = "de" if language == "de" else "en-US"
    shared = world.fake.add_guild("Second Club")
    lounge = world.fake.add_text_channel(shared, "lounge")
    alice_there = world.fake.add_member(shared, "alice", user=world.alice.user)
    alice_there.locale = "de" if language == "de" else "en-US"
    closed = world.fake.add_member(world.guild, "carl", accepts_dms=False)
    carl_there = world.fake.add_member(shared, "carl", user=closed.user)
    await world.start_bot()
    job_id = await start_job(world, world.alice, world.channel, "a slow pan over the bay")
    quiet_id = await start_job(world, closed, world.channel, "a lantern on a quiet pier")
    for running in (job_id, quiet_id):
        await until_state(world, running, JobState.RUNNING)

    world.fake.remove_bot_from_guild(world.guild)

    async def kept() -> bool:
        jobs = [await stored(world, job) for job in (job_id, quiet_id)]
        return all(job.state is JobState.DELIVERY_FAILED for job in jobs)

    await until(kept, within=15, what="both paid videos to be kept")
    job = await stored(world, job_id)
    assert job.failure is Failure.SERVER_LEFT
    assert job.output_url is not None
    ready, heading = STRANDED[language]
    await eventually(
        lambda: bool(world.fake.direct_messages(world.alice.user)), what="a direct message"
    )
    [note] = world.fake.direct_messages(world.alice.user)
    assert ready.format(job=job_id) in (note.content or "")
    assert job.request_id is not None
    assert job.request_id in (note.content or ""), "the emulator's http link is not shown"
    assert world.fake.direct_messages(closed.user) == []
    assert world.emulator.submit_count == 2

    mine = await world.answer(await world.command("mine", alice_there, in_channel=lounge))
    [field] = mine.embeds[0]["fields"]
    assert field["name"] == heading
    assert f"**#{job_id}**" in field["value"]
    assert job.request_id in field["value"]
    others = await world.answer(await world.command("mine", carl_there, in_channel=lounge))
    assert f"**#{job_id}**" not in str(others.embeds)
    assert f"**#{quiet_id}**" in str(others.embeds), "told nothing, but it is listed"


async def stop(world: World, bot: VideoBot) -> None:
    """Stop one of the world's further bot processes, cleanly (its jobs handed over)."""
    [task] = [task for other, task in world.others if other is bot]
    world.others.remove((bot, task))
    await bot.close()
    await asyncio.wait_for(task, 10)


async def test_every_process_stops_the_jobs_it_holds_there(
    make_world, postgres_server: PostgresServer
) -> None:
    """Two processes share one PostgreSQL database. The jobs of a server on the first
    process's shard are held by the second (it took them over while the first was
    restarting); the bot is removed from that server: only the first process hears it,
    and tells the second, which stops every job there and sends none of them."""
    dsn = await create_database(postgres_server, "departures_e2e")
    world = await make_world(
        start=False,
        emulator_options=IDLE_WORKERS,
        env={
            "DATABASE_URL": dsn,
            "SHARD_COUNT": "2",
            "JOB_LEASE_SECONDS": "1",
            "MAX_ACTIVE_JOBS_PER_USER": "2",
        },
    )
    server = world.fake.add_guild("Shard 0 club", shard=(0, 2))
    channel = world.fake.add_text_channel(server, "videos")
    world.alice = world.fake.add_member(server, "alice")
    first = await world.start_another_bot(SHARD_IDS="0")
    jobs = [await start_job(world, world.alice, channel, f"queued {n}") for n in range(2)]
    jobs += [await start_job(world, world.alice, channel, f"waiting {n}") for n in range(3)]

    async def reached(bot: VideoBot, states: list[JobState]) -> bool:
        found = [bot.tracker.get(job_id) for job_id in jobs]
        return [job.state if job else None for job in found] == states

    held = [JobState.QUEUED] * 2 + [JobState.WAITING] * 3
    await until(lambda: reached(first, held), what="two jobs queued, three waiting")
    await stop(world, first)
    second = await world.start_another_bot(SHARD_IDS="1")
    await until(lambda: reached(second, held), what="the second process to hold them")
    await world.start_another_bot(SHARD_IDS="0")

    world.fake.remove_bot_from_guild(server)

    async def stopped() -> bool:
        found = [await second.tracker.fetch(job_id) for job_id in jobs]
        return all(job is not None and job.failure is Failure.SERVER_LEFT for job in found)

    await until(stopped, what="every job there to be stopped")
    await asyncio.sleep(QUIET)
    for job_id in jobs:
        job = await second.tracker.fetch(job_id)
        assert job is not None
        assert job.state is JobState.CANCELLED
    assert world.emulator.submit_count == 2, "only the submits already sent"
    assert billed(world) == []
    assert [job.status for job in world.emulator.jobs.values()] == ["cancelled"] * 2
