"""A prompt session end to end through the real client: a moderator starts it, members
enter videos from the channel and the gallery thread, vote (and are refused: their own
entry, over their votes, an entry over their limit), the host closes entries, the recap
is posted once in the channel and the thread, and the leaderboard remembers."""

from __future__ import annotations

from testkit.waiting import eventually
from tests.e2e.harness import World, embed_text
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
    vote_label,
)


async def test_a_full_session(world: World) -> None:
    fake = world.fake
    audit = fake.add_text_channel(world.guild, "audit")
    await world.answer(await world.command("settings audit", world.admin, channel=audit))
    await world.answer(await world.command("settings votes", world.admin, per_member=2))
    card, thread = await start_session(world, theme="Winter foxes", vote_minutes=5)
    assert "Winter foxes" in card.text
    assert "1 entry per member" in card.text
    assert thread.name == "Winter foxes"
    await fake.wait_for_message(audit, lambda m: "started the session" in (m.content or ""))

    alice_id, alice_status = await world.started_job(await world.generate(prompt="a fox in snow"))
    assert "Prompt session" in embed_text(alice_status)
    bob_it = await world.fake.invoke_slash(
        thread, world.bob, "video", subcommand="generate", options={"prompt": "foxes at dusk"}
    )
    bob_id = await world.job_id(bob_it)
    rolf_id, _ = await world.started_job(
        await world.generate(world.mod_by_role, prompt="a fox family under the aurora")
    )
    again = await world.answer(await world.generate(prompt="a second fox"))
    assert "already entered 1 video" in again.content, again.content
    assert "Nothing was sent or charged" in again.content

    alice_entry = await entry_in(world, thread, alice_id)
    bob_entry = await entry_in(world, thread, bob_id)
    rolf_entry = await entry_in(world, thread, rolf_id)
    assert world.alice.mention in alice_entry.text
    assert "a fox in snow" in alice_entry.text
    assert alice_entry.is_v2, "an entry is the result card"
    [video] = alice_entry.media_items
    assert alice_entry.attachment_for(video) is not None, "the video plays in the gallery"
    assert f"video:reroll:{alice_id}" in alice_entry.custom_ids, "with the card's own buttons"
    assert world.notices(alice_id) == [], "an entry is posted in the gallery, not the channel"
    delivered = await world.wait_for_status(alice_status, "see the video")
    assert f"/{thread.id}/{alice_entry.id})" in embed_text(delivered), (
        "the link goes to the gallery"
    )
    assert f"<#{thread.id}>" in embed_text(delivered)

    assert "is in" in await vote(world, alice_entry, alice_id, world.bob)
    assert "own entry" in await vote(world, alice_entry, alice_id, world.alice)
    marta = world.mod_by_permission
    assert "is in" in await vote(world, alice_entry, alice_id, marta)
    assert "is in" in await vote(world, bob_entry, bob_id, marta)
    assert "used all 2" in await vote(world, rolf_entry, rolf_id, marta)
    assert "taken back" in await vote(world, alice_entry, alice_id, marta)
    assert "is in" in await vote(world, rolf_entry, rolf_id, marta)
    assert "is in" in await vote(world, alice_entry, alice_id, world.admin)
    await fake.wait_for_edit(alice_entry, lambda m: vote_label(m, alice_id) == "2 votes")

    assert "Entries are closed" in await said(await session_command(world, "end"))
    await fake.wait_for_message(audit, lambda m: "closed the entries" in (m.content or ""))
    late = await world.answer(await world.generate(world.bob, prompt="a late fox"))
    assert late.ephemeral is False, "after entries close a video is just a video"
    assert "is in" in await vote(world, bob_entry, bob_id, world.alice), "voting goes on"

    recap = await recap_in(world, world.channel)
    in_thread = await recap_in(world, thread)
    assert "Winter foxes" in recap.text
    alice, bob = world.alice.mention, world.bob.mention
    assert f"Winners, tied: {alice} (2 votes), {bob} (2 votes)" in recap.text
    assert f"🥇 [#{alice_id}](" in recap.text
    assert f"🥇 [#{bob_id}](" in recap.text
    assert f"🥉 [#{rolf_id}]" in recap.text
    assert f"by {world.mod_by_role.mention} — 1 vote" in recap.text
    assert "3 entries · 4 voters" in recap.text
    assert fake.mentions_pinged(recap) == {world.alice.user.id, world.bob.user.id}
    assert fake.mentions_pinged(in_thread) == set()
    await eventually(
        lambda: vote_disabled(fake.message(alice_entry.id), alice_id), what="votes closed"
    )
    await fake.wait_for_edit(card, lambda m: "see the recap" in m.text)
    board = await said(await session_command(world, "leaderboard", world.bob))
    assert f"🥇 {alice} — 🏆 1 · 🎬 1 · 🗳️ 2" in board
    assert f"🥈 {bob} — 🏆 1 · 🎬 1 · 🗳️ 2" in board
    assert f"🥉 {world.mod_by_role.mention} — 🏆 0 · 🎬 1 · 🗳️ 1" in board
    assert len(recaps_in(world, world.channel)) == len(recaps_in(world, thread)) == 1
    assert card_of(world).id == card.id
    herald = world.bot.session_side.herald
    await eventually(
        lambda: set(herald.kept().values()) == {0},
        what="nothing kept for a finished session's card and entries",
    )
