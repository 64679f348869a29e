"""Two bot processes on one PostgreSQL database (each running one of two shards) keep one
session's deadlines side by side: whichever moves it from voting to its recap posts the
recap, once in the channel and once in the thread; and when that process stops while
Discord holds the recap up, the other finishes it once its claim runs out."""

from __future__ import annotations

import asyncio

from bot.app import VideoBot
from bot.sessions.model import Session, SessionState
from testkit.postgres import PostgresServer, create_database
from testkit.waiting import eventually
from tests.e2e.harness import World
from tests.e2e.session_kit import (
    entry_in,
    recap_in,
    recaps_in,
    said,
    session_command,
    start_session,
    vote,
)


async def two_bots(
    make_world, postgres_server: PostgresServer, name: str
) -> tuple[World, list[VideoBot]]:
    dsn = await create_database(postgres_server, name)
    world: World = await make_world(start=False, env={"DATABASE_URL": dsn})
    bots = [
        await world.start_another_bot(SHARD_COUNT="2", SHARD_IDS=str(shard)) for shard in (0, 1)
    ]
    return world, bots


async def stored(bot: VideoBot, session_id: int = 1) -> Session:
    session = await bot.session_side.sessions.store.get(session_id)
    assert session is not None
    return session


def knows_it(bot: VideoBot) -> bool:
    return bot.session_side.sessions.known(1) is not None


async def state_of(bot: VideoBot, state: SessionState) -> Session:
    """The session as the database holds it, once it is in `state`."""
    while (session := await stored(bot)).state is not state:  # noqa: ASYNC110  (a database row)
        await asyncio.sleep(0.05)
    return session


async def test_two_processes_post_one_recap(make_world, postgres_server: PostgresServer) -> None:
    world, bots = await two_bots(make_world, postgres_server, "sessions_two")
    _, thread = await start_session(world, theme="Shared foxes", vote_minutes=1)
    alice_id, _ = await world.started_job(await world.generate())
    bob_id, _ = await world.started_job(await world.generate(world.bob, prompt="two foxes"))
    alice_entry = await entry_in(world, thread, alice_id)
    await entry_in(world, thread, bob_id)
    assert "is in" in await vote(world, alice_entry, alice_id, world.bob)
    for bot in bots:
        await eventually(
            lambda bot=bot: bot.session_side.sessions.known(1) is not None, what="both know it"
        )
    await said(await session_command(world, "end"))
    recap = await recap_in(world, world.channel, within=20)
    await recap_in(world, thread)
    assert f"Winner: {world.alice.mention} (1 vote)" in recap.text
    closed = await asyncio.wait_for(state_of(bots[0], SessionState.CLOSED), 10)
    assert closed.recap_owner is None
    await asyncio.sleep(1.5)
    assert (await stored(bots[1])).state is SessionState.CLOSED
    assert len(recaps_in(world, world.channel)) == len(recaps_in(world, thread)) == 1


async def test_a_recap_left_by_a_stopped_process_is_finished_by_the_other(
    make_world, postgres_server: PostgresServer
) -> None:
    world, bots = await two_bots(make_world, postgres_server, "sessions_takeover")
    _, thread = await start_session(world, theme="Handover", vote_minutes=0)
    job_id, _ = await world.started_job(await world.generate())
    await entry_in(world, thread, job_id)
    for bot in bots:
        await eventually(
            lambda bot=bot: bot.session_side.sessions.known(1) is not None, what="both know it"
        )
    world.fake.set_outage(True)
    await said(await session_command(world, "end"))
    session = await asyncio.wait_for(state_of(bots[0], SessionState.RECAP), 10)
    [claimant] = [bot for bot in bots if bot.session_side.sessions.owner == session.recap_owner]
    [survivor] = [bot for bot in bots if bot is not claimant]
    await claimant.close()
    world.fake.set_outage(False)
    await recap_in(world, world.channel, within=20)
    await recap_in(world, thread)
    done = await asyncio.wait_for(state_of(survivor, SessionState.CLOSED), 10)
    assert done.recap_channel_message_id is not None
    assert len(recaps_in(world, world.channel)) == len(recaps_in(world, thread)) == 1
