"""Prompt sessions survive restarts: a deadline that passed while the bot was down closes
the session at start-up, voting and its buttons carry on after a restart, a recap that
could not be posted before a stop is posted once after it (also when a copy went out
just before the crash), and a vote pressed while the bot stops or while the database
refuses is counted, or answered that the bot is restarting or to press again."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

from bot.sessions.model import Session, SessionState
from testkit.discord import FakeDiscordUsageError
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
    vote_id,
)

SESSION_MINUTES_IN_REAL_SECONDS = 5 * 60 / 100


def the_session(world: World) -> Session:
    assert world.bot is not None
    session = world.bot.session_side.sessions.known(1)
    assert session is not None
    return session


async def test_a_deadline_that_passed_while_the_bot_was_down_closes_at_start_up(
    world: World,
) -> None:
    _, thread = await start_session(world, theme="Overnight", minutes=5, vote_minutes=0)
    job_id, _ = await world.started_job(await world.generate())
    entry = await entry_in(world, thread, job_id)
    assert "is in" in await vote(world, entry, job_id, world.bob)
    await world.stop_bot()
    await asyncio.sleep(SESSION_MINUTES_IN_REAL_SECONDS + 0.5)
    await world.start_bot()
    recap = await recap_in(world, world.channel, within=15)
    assert f"Winner: {world.alice.mention} (1 vote)" in recap.text
    await recap_in(world, thread)
    await eventually(lambda: the_session(world).state is SessionState.CLOSED, what="closed")
    closed = the_session(world)
    assert closed.entries_closed_at == closed.entries_close_at, "closed as of its deadline"
    assert len(recaps_in(world, world.channel)) == len(recaps_in(world, thread)) == 1


async def test_voting_and_its_buttons_carry_on_after_a_restart(world: World) -> None:
    _, thread = await start_session(world, theme="Restart vote", vote_minutes=5)
    job_id, _ = await world.started_job(await world.generate())
    entry = await entry_in(world, thread, job_id)
    await said(await session_command(world, "end"))
    await world.restart_bot()
    assert the_session(world).state is SessionState.VOTING
    assert "is in" in await vote(world, entry, job_id, world.bob)
    recap = await recap_in(world, world.channel, within=20)
    assert f"Winner: {world.alice.mention} (1 vote)" in recap.text
    assert len(recaps_in(world, world.channel)) == 1


async def test_a_recap_held_up_by_discord_is_posted_once_after_a_restart(world: World) -> None:
    _, thread = await start_session(world, theme="Outage", vote_minutes=0)
    job_id, _ = await world.started_job(await world.generate())
    await entry_in(world, thread, job_id)
    world.fake.set_outage(True)
    await said(await session_command(world, "end"))
    await eventually(
        lambda: the_session(world).state is SessionState.RECAP, what="the recap claimed"
    )
    await asyncio.sleep(0.3)
    await world.stop_bot()
    world.fake.set_outage(False)
    await world.start_bot()
    await recap_in(world, world.channel, within=15)
    await recap_in(world, thread)
    await eventually(lambda: the_session(world).state is SessionState.CLOSED, what="closed")
    assert len(recaps_in(world, world.channel)) == len(recaps_in(world, thread)) == 1


async def test_a_recap_posted_just_before_a_crash_is_not_posted_again(world: World) -> None:
    _, thread = await start_session(world, theme="Crash", vote_minutes=0)
    job_id, _ = await world.started_job(await world.generate())
    await entry_in(world, thread, job_id)
    await said(await session_command(world, "end"))
    await recap_in(world, thread)
    await eventually(lambda: the_session(world).state is SessionState.CLOSED, what="closed")
    await world.stop_bot()
    database = world.tmp_path / "data" / "bot.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE sessions SET state = 'recap', recap_owner = 'crashed', recap_until = 0, "
            "recap_channel_message_id = NULL, recap_thread_message_id = NULL, closed_at = NULL"
        )
    await world.start_bot()
    await eventually(lambda: the_session(world).state is SessionState.CLOSED, what="closed again")
    closed = the_session(world)
    [channel_recap] = recaps_in(world, world.channel)
    [thread_recap] = recaps_in(world, thread)
    assert (closed.recap_channel_message_id, closed.recap_thread_message_id) == (
        channel_recap.id,
        thread_recap.id,
    )


async def test_votes_pressed_while_the_bot_stops_are_counted_or_asked_again(
    make_world: Any,
) -> None:
    world: World = await make_world()
    voters = [world.fake.add_member(world.guild, f"voter{n}") for n in range(8)]
    _, thread = await start_session(world, theme="Stopping", vote_minutes=60)
    job_id, _ = await world.started_job(await world.generate())
    entry = await entry_in(world, thread, job_id)
    clicks = []
    for voter in voters[:4]:
        clicks.append(await world.fake.click_button(entry, vote_id(job_id), voter))
    for click in clicks:
        await click.wait_ack()
    stopping = asyncio.create_task(world.stop_bot())
    for voter in voters[4:]:
        await asyncio.sleep(0.01)
        with contextlib.suppress(FakeDiscordUsageError):  # the bot is gone from the gateway
            clicks.append(await world.fake.click_button(entry, vote_id(job_id), voter))
    await stopping
    answers = [await answer_of(click) for click in clicks]
    await world.start_bot()
    assert world.bot is not None
    said_ = [text for text in answers if text is not None]
    counted = sum(1 for text in said_ if "is in" in text)
    asked_again = sum(1 for text in said_ if "is restarting" in text)
    assert counted + asked_again == len(said_), "every press taken was answered one way"
    assert counted >= 4, "the presses being counted when the stop began were counted"
    assert await world.bot.session_side.sessions.store.entry_votes(job_id) == counted


async def answer_of(click: Any) -> str | None:
    """What a press was told; None when the bot never took it (Discord then shows the
    member that the interaction failed)."""
    if not click.callbacks:
        return None
    answer = await click.wait_answer(timeout=10)
    return str(answer.content)


async def test_a_vote_the_database_refuses_is_answered_with_a_retry(world: World) -> None:
    _, thread = await start_session(world, theme="Read only", vote_minutes=60)
    job_id, _ = await world.started_job(await world.generate())
    entry = await entry_in(world, thread, job_id)
    await eventually(lambda: not world.bot.tracker.open_jobs(), what="the job settled")
    db = world.bot.storage.jobs.db
    await db.run(lambda conn: conn.execute("PRAGMA query_only = 1"))
    assert "press the button again" in await vote(world, entry, job_id, world.bob)
    await db.run(lambda conn: conn.execute("PRAGMA query_only = 0"))
    assert "is in" in await vote(world, entry, job_id, world.bob)
    assert await world.bot.session_side.sessions.store.entry_votes(job_id) == 1
