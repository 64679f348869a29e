"""Prompt sessions' rules end to end: who may host and what the bot needs, one open
session per channel, the budget refusing with the estimate and what is left, a
moderator removing an entry, a cancelled session (no recap, its videos still come), a
member who left keeping their results, and German readers reading German."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.jobs.model import JobState
from bot.sessions.model import SessionState
from testkit.discord import FakeChannel, FakeMessage
from testkit.waiting import eventually
from tests.e2e.harness import World
from tests.e2e.session_kit import (
    card_of,
    entry_in,
    recap_in,
    recaps_in,
    said,
    session_command,
    start_session,
    vote,
    vote_disabled,
)
from tests.e2e.test_languages import assert_nothing_english, speaking


async def test_who_may_start_a_session_and_what_the_bot_needs(world: World) -> None:
    fake = world.fake
    refused = await said(await session_command(world, "start", world.bob, theme="x", minutes=5))
    assert "Only moderators of this channel" in refused
    hosts = fake.add_role(world.guild, "Session hosts")
    hana = fake.add_member(world.guild, "hana", roles=(hosts,))
    await world.answer(await world.command("settings hosts", world.admin, action="add", role=hosts))
    await start_session(world, hana, theme="Hana's night")
    again = await said(await session_command(world, "start", theme="another", minutes=5))
    assert "already has an open session" in again
    bare = fake.add_text_channel(world.guild, "bare")
    missing = await said(
        await session_command(world, "start", in_channel=bare, theme="no threads", minutes=5)
    )
    assert "Create Public Threads" in missing
    assert "Send Messages in Threads" in missing
    assert fake.threads_of(bare) == []
    [thread] = fake.threads_of(world.channel)
    inside = await said(
        await session_command(world, "start", in_channel=thread, theme="nested", minutes=5)
    )
    assert "not in a thread" in inside
    assert "Only the session's host" in await said(await session_command(world, "end", world.bob))


async def test_the_budget_refuses_with_the_estimate_and_what_is_left(world: World) -> None:
    await start_session(world, theme="Budget night", budget=1.0, entries_per_member=3)
    first, _ = await world.started_job(await world.generate())
    job = await world.bot.tracker.fetch(first)
    assert job is not None
    assert job.session_id is not None
    refused = await world.answer(await world.generate(world.bob, prompt="another fox"))
    assert refused.ephemeral
    estimate = job.estimated_cost
    left = Decimal("1.00") - estimate
    assert f"would cost about ${estimate:.2f}" in refused.content, refused.content
    assert f"only ${left:.2f} left of its $1.00 budget" in refused.content
    assert "Nothing was sent or charged" in refused.content
    await eventually(lambda: world.emulator.submit_count == 1, what="the first entry sent")
    assert world.emulator.submit_count == 1
    status = await said(await session_command(world, "status", world.bob))
    assert f"${left:.2f} left of $1.00" in status
    assert "Your entries 0 of 3" in status, "bob has entered nothing"


async def audited_entries(
    world: World, *, theme: str, vote_minutes: int
) -> tuple[FakeChannel, tuple[int, FakeMessage], tuple[int, FakeMessage]]:
    """An audit channel, a session, and one entry each from alice and bob (job id and
    entry message), for the tests that remove an entry."""
    audit = world.fake.add_text_channel(world.guild, "audit")
    await world.answer(await world.command("settings audit", world.admin, channel=audit))
    _, thread = await start_session(world, theme=theme, vote_minutes=vote_minutes)
    alice_id, _ = await world.started_job(await world.generate())
    bob_id, _ = await world.started_job(await world.generate(world.bob, prompt="foxes at night"))
    return (
        audit,
        (alice_id, await entry_in(world, thread, alice_id)),
        (bob_id, await entry_in(world, thread, bob_id)),
    )


async def test_a_moderator_removes_an_entry_its_votes_and_its_place(world: World) -> None:
    fake = world.fake
    audit, (alice_id, alice_entry), (bob_id, bob_entry) = await audited_entries(
        world, theme="Removal", vote_minutes=1
    )
    marta = world.mod_by_permission
    assert "is in" in await vote(world, alice_entry, alice_id, marta)
    assert "is in" in await vote(world, alice_entry, alice_id, world.bob)
    assert "is in" in await vote(world, bob_entry, bob_id, world.alice)
    refused = await said(await session_command(world, "remove", world.bob, entry=alice_id))
    assert "Only the session's host" in refused
    removed = await said(await session_command(world, "remove", world.mod_by_role, entry=alice_id))
    assert f"#{alice_id}" in removed
    await eventually(lambda: fake.message(alice_entry.id).deleted, what="the entry deleted")
    again = await said(await session_command(world, "remove", entry=alice_id))
    assert "can't be removed" in again
    await fake.wait_for_message(audit, lambda m: "removed entry" in (m.content or ""))
    status = await said(await session_command(world, "status", marta))
    assert "0 of 3" in status.split("Your votes")[1], "marta's vote went back to her"
    await said(await session_command(world, "end"))
    recap = await recap_in(world, world.channel)
    assert f"Winner: {world.bob.mention} (1 vote)" in recap.text
    assert f"[#{alice_id}]" not in recap.text
    assert "1 entry · 1 voter" in recap.text


async def test_a_winner_removed_after_the_recap_loses_the_win(world: World) -> None:
    """Found to break the rules after the recap: the video goes, the next one wins on
    the leaderboard, and the moderator is told the posted recap stays as it was."""
    fake = world.fake
    audit, (alice_id, alice_entry), (bob_id, bob_entry) = await audited_entries(
        world, theme="Afterwards", vote_minutes=0
    )
    assert "is in" in await vote(world, alice_entry, alice_id, world.bob)
    assert "is in" in await vote(world, alice_entry, alice_id, world.mod_by_permission)
    assert "is in" in await vote(world, bob_entry, bob_id, world.alice)
    await said(await session_command(world, "end"))
    recap = await recap_in(world, world.channel)
    assert f"Winner: {world.alice.mention} (2 votes)" in recap.text
    sessions = world.bot.session_side.sessions

    def closed() -> bool:
        session = sessions.known(1)
        return session is not None and session.state is SessionState.CLOSED

    await eventually(closed, what="the recap posted in the thread too, and the session closed")
    board = await said(await session_command(world, "leaderboard", world.bob))
    assert board.index(world.alice.mention) < board.index(world.bob.mention)

    removed = await said(await session_command(world, "remove", world.mod_by_role, entry=alice_id))
    assert f"#{alice_id}" in removed
    assert "recap already posted stays" in removed
    await eventually(lambda: fake.message(alice_entry.id).deleted, what="the entry deleted")
    await fake.wait_for_message(audit, lambda m: "removed entry" in (m.content or ""))
    board = await said(await session_command(world, "leaderboard", world.bob))
    assert world.alice.mention not in board, "a removed entry counts for nothing"
    assert world.bob.mention in board, "the next one up keeps the win"
    again = await said(await session_command(world, "remove", entry=alice_id))
    assert "can't be removed" in again


async def test_a_cancelled_session_has_no_recap_and_its_videos_still_come(
    make_world: Any,
) -> None:
    world: World = await make_world(emulator_options={"workers": 0})
    audit = world.fake.add_text_channel(world.guild, "audit")
    await world.answer(await world.command("settings audit", world.admin, channel=audit))
    card, thread = await start_session(world, theme="Called off", vote_minutes=0)
    job_id, _ = await world.started_job(await world.generate())
    assert "no recap" in await said(await session_command(world, "cancel"))
    await world.fake.wait_for_edit(card, lambda m: "Cancelled by" in m.text)
    await world.fake.wait_for_message(audit, lambda m: "cancelled the session" in m.content)
    world.emulator.set_workers(1)
    entry = await entry_in(world, thread, job_id)
    assert vote_disabled(entry, job_id), "no votes in a cancelled session"
    await eventually(
        lambda: world.bot.tracker.get(job_id) is None, what="the video delivered and recorded"
    )
    delivered = await world.bot.tracker.fetch(job_id)
    assert delivered is not None
    assert delivered.state is JobState.DELIVERED
    assert recaps_in(world, world.channel) == recaps_in(world, thread) == []
    assert "no session" in await said(await session_command(world, "status"))


async def test_a_member_who_left_keeps_their_results(world: World) -> None:
    _, thread = await start_session(world, theme="Farewell", vote_minutes=0)
    bob_id, _ = await world.started_job(await world.generate(world.bob, prompt="a fox waves"))
    entry = await entry_in(world, thread, bob_id)
    assert "is in" in await vote(world, entry, bob_id, world.alice)
    await said(await session_command(world, "end"))
    await recap_in(world, world.channel)
    world.fake.remove_member(world.guild, world.bob)
    board = await said(await session_command(world, "leaderboard", world.alice))
    assert f"🥇 {world.bob.mention} — 🏆 1 · 🎬 1 · 🗳️ 1" in board


async def test_a_german_session_reads_german(make_world: Any) -> None:
    world = await speaking(make_world, "de", "de")
    card, thread = await start_session_de(world)
    assert "Prompt-Session: Füchse" in card.text
    job_id, _ = await world.started_job(await world.generate())
    entry = await entry_in(world, thread, job_id)
    assert "Beitrag zu **Füchse**" in entry.text
    assert "Du kannst nicht" in await vote(world, entry, job_id, world.alice)
    assert "ist gezählt" in await vote(world, entry, job_id, world.bob)
    await said(await session_command(world, "end"))
    recap = await recap_in(world, world.channel)
    assert f"Sieger: {world.alice.mention} (1 Stimme)" in recap.text
    assert card_of(world).id == card.id
    assert_nothing_english(world)


async def start_session_de(world: World) -> tuple[Any, Any]:
    answer = await said(
        await session_command(world, "start", theme="Füchse", minutes=30, vote_minutes=0)
    )
    assert "hat begonnen" in answer, answer
    card = card_of(world)
    [thread] = world.fake.threads_of(world.channel)
    return card, thread


async def test_another_members_entry_cannot_be_rerolled_into_an_entry(world: World) -> None:
    """Re-roll on someone else's entry would enter their prompt as the presser's: refused
    privately, nothing sent; the author's own re-roll is a second entry of theirs."""
    _, thread = await start_session(world, theme="Originals", entries_per_member=2)
    alice_id, _ = await world.started_job(await world.generate())
    entry = await entry_in(world, thread, alice_id)
    submitted = world.emulator.submit_count
    copied = await world.fake.click_button(entry, f"video:reroll:{alice_id}", world.bob)
    answer = await world.answer(copied)
    assert "another member's entry in “Originals”" in answer.content
    assert answer.ephemeral
    assert world.emulator.submit_count == submitted, "nothing sent"
    own = await world.fake.click_button(entry, f"video:reroll:{alice_id}", world.alice)
    rerolled_id = await world.job_id(own)
    rerolled = await world.bot.tracker.fetch(rerolled_id)
    assert rerolled is not None
    assert rerolled.session_id == 1, "the author's own re-roll is an entry"


async def test_late_cancels_and_unposted_entries_are_answered_plainly(make_world: Any) -> None:
    """A video still being made is not in the gallery yet: removing it points to cancelling
    it. A session whose recap is being posted can no longer be cancelled, and says so."""
    world: World = await make_world(emulator_options={"workers": 0})
    await start_session(world, theme="Plain answers", vote_minutes=0)
    job_id, _ = await world.started_job(await world.generate())
    answer = await said(await session_command(world, "remove", world.mod_by_role, entry=job_id))
    assert "isn't in the gallery yet" in answer
    assert f"/video cancel job:{job_id}" in answer
    db = world.bot.storage.jobs.db
    await db.run(
        lambda conn: conn.execute(
            "UPDATE sessions SET state = 'recap', recap_owner = 'another', recap_until = ?",
            (world.bot.tracker.clock.now() + 3600,),
        )
    )
    answer = await said(await session_command(world, "cancel"))
    assert "can't be cancelled any more" in answer
