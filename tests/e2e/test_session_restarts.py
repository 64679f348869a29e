"""Prompt sessions survive restarts: a deadline that passed while the bot was down closes
the session at start-up, voting and its buttons carry on after a restart, a recap that
could not be posted before a stop is posted once after it (also when a copy went out
just before the crash, behind more than a page of chat; an entry too), and a vote
pressed while the bot stops or while the database refuses is counted, or answered that
the bot is restarting or to press again."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from bot.jobs.model import JobState
from bot.jobs.ports import StoreError
from bot.sessions.model import Session, SessionState
from testkit.discord import FakeChannel, FakeDiscordUsageError
from testkit.waiting import eventually
from tests.e2e.harness import World, is_notice
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


async def test_entries_keep_coming_after_a_restart_while_they_are_open(world: World) -> None:
    """A restart mid-session: a video waiting at RunComfy still becomes its entry, new
    videos are entries too, and the entry limit still counts the ones before."""
    _, thread = await start_session(world, theme="Restart entries", entries_per_member=2)
    before_id, _ = await world.started_job(await world.generate())
    await world.restart_bot()
    assert the_session(world).state is SessionState.OPEN
    await entry_in(world, thread, before_id)
    after_id, _ = await world.started_job(await world.generate(prompt="a second fox"))
    await entry_in(world, thread, after_id)
    third = await said(await world.generate(prompt="a third fox"))
    assert "already entered 2 videos" in third


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


async def restart_as_if_crashed_mid_recap(world: World, thread: FakeChannel) -> None:
    """With the bot stopped after its recap was posted, make the database say the recap
    was claimed by a process that crashed before recording either message; start the bot
    and check it finds both copies instead of posting them again."""
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


async def test_a_recap_posted_just_before_a_crash_is_not_posted_again(world: World) -> None:
    _, thread = await start_session(world, theme="Crash", vote_minutes=0)
    job_id, _ = await world.started_job(await world.generate())
    await entry_in(world, thread, job_id)
    await said(await session_command(world, "end"))
    await recap_in(world, thread)
    await eventually(lambda: the_session(world).state is SessionState.CLOSED, what="closed")
    await world.stop_bot()
    await restart_as_if_crashed_mid_recap(world, thread)


async def chat(world: World, channel: FakeChannel, count: int) -> None:
    for n in range(count):
        await world.fake.post_user_message(channel, world.bob, f"chatter {n}")


async def test_a_recap_before_a_crash_is_found_behind_a_busy_channel(make_world: Any) -> None:
    """Its nonce forgotten by Discord, more than a page of history between the card and
    the recap, and more chat after it: the copy is still found, so the winners are not
    pinged twice."""
    world: World = await make_world(fake_options={"nonce_window": 0.01})
    _, thread = await start_session(world, theme="Busy", vote_minutes=0)
    job_id, _ = await world.started_job(await world.generate())
    await entry_in(world, thread, job_id)
    await chat(world, world.channel, 120)
    await chat(world, thread, 120)
    await said(await session_command(world, "end"))
    await recap_in(world, thread)
    await eventually(lambda: the_session(world).state is SessionState.CLOSED, what="closed")
    await world.stop_bot()
    await chat(world, world.channel, 30)
    await chat(world, thread, 30)
    await restart_as_if_crashed_mid_recap(world, thread)


async def test_an_entry_before_a_crash_is_found_behind_a_busy_gallery(make_world: Any) -> None:
    """Its nonce forgotten by Discord, and more than a page of the gallery between the
    entry's status card and the entry, and more after it: the entry posted before the
    crash is found, not posted again."""
    world: World = await make_world(
        fake_options={"nonce_window": 0.01}, emulator_options={"workers": 0}
    )
    _, thread = await start_session(world, theme="Busy gallery", vote_minutes=60)
    job_id, _ = await world.started_job(await world.generate())
    await chat(world, thread, 120)
    world.emulator.set_workers(1)
    entry = await entry_in(world, thread, job_id)
    await chat(world, thread, 30)
    assert world.bot is not None
    delivered = await world.bot.tracker.fetch(job_id)
    assert delivered is not None
    replay = replace(delivered, state=JobState.COMPLETED, notice_attempts=2)
    assert await world.bot.notifier.send_notice(replay) == entry.id
    assert [m.id for m in world.fake.channel_messages(thread) if is_notice(m, job_id)] == [entry.id]


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


async def test_a_session_the_database_refuses_to_record_is_taken_down(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card and thread are up but the database refuses to record them: both are taken
    down, the session is abandoned, the host is told, and the channel is free again."""
    store = world.bot.session_side.sessions.store
    real_save = store.save
    refusals = iter([True])

    async def save_once_refused(session: Session) -> Session | None:
        if session.thread_id is not None and next(refusals, False):
            raise StoreError("the database refuses writes")
        return await real_save(session)

    monkeypatch.setattr(store, "save", save_once_refused)
    answer = await said(await session_command(world, "start", theme="Unrecorded", minutes=30))
    assert "can't record sessions right now" in answer
    [thread] = world.fake.threads_of(world.channel)
    assert thread.thread is not None
    assert thread.thread.archived, "the thread is archived"
    assert all(m.deleted for m in world.fake.channel_messages(world.channel) if m.components)
    assert "no session" in await said(await session_command(world, "status"))
    card, _ = await start_session(world, theme="Recorded")
    assert card.id != 0, "the channel takes a new session"
