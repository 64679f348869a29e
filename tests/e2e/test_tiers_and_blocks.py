"""Role tiers, member blocks and strikes end to end: a tier decides the longest video,
sound, the daily seconds and the videos at once of its members (the command still offers
everything, and a choice beyond the tier is refused with what it allows); moderators
block and unblock members (whose spending commands and buttons are refused with the end
date, their waiting videos cancelled on request); and videos RunComfy refuses for their
content block a member by themselves, who is told privately."""

from __future__ import annotations

import re

import pytest

from testkit.discord import FakeMember, FakeMessage, FakeRole
from testkit.runcomfy import JobOutcome
from testkit.waiting import eventually
from tests.e2e.harness import World, embed_text, midday_today

TIMESTAMP = re.compile(r"<t:\d+:f>")


async def moderate(world: World, subcommand: str, by: FakeMember, **options: object) -> str:
    """`/video block|unblock|strikes member:…` (its option is named like `World.command`'s
    own `member`); the private answer."""
    interaction = await world.fake.invoke_slash(
        world.channel, by, "video", subcommand=subcommand, options=options
    )
    answer = await world.answer(interaction)
    assert answer.ephemeral
    return answer.content or ""


@pytest.fixture
async def supporters(world: World) -> tuple[World, FakeRole, FakeMember]:
    role = world.fake.add_role(world.guild, "Supporters")
    member = world.fake.add_member(world.guild, "sam", roles=(role,))
    answer = await world.answer(
        await world.command(
            "settings tier",
            world.admin,
            action="set",
            role=role,
            daily_seconds=20,
            longest=10,
            sound=False,
            at_once=1,
        )
    )
    assert answer.content == (
        f"✅ Members with <@&{role.id}>: 20 s a day, videos up to 10 s, without sound, 1 at once."
    )
    return world, role, member


async def test_a_choice_beyond_the_tier_is_refused_with_what_it_allows(supporters) -> None:
    world, _, sam = supporters
    refused = await world.answer(await world.generate(sam, duration=12, sound=False))
    assert refused.content == (
        "❌ Your role tier does not allow a 12 s video. It allows: 20 s a day, videos up to "
        "10 s, without sound, 1 at once. Nothing was sent or charged."
    )
    assert refused.ephemeral
    refused = await world.answer(await world.generate(sam, duration=5, sound=True))
    assert "does not allow a video with sound" in refused.content
    assert world.emulator.submit_count == 0
    await world.started_job(await world.generate(world.alice, duration=15, sound=True))


async def test_the_tier_decides_sound_seconds_and_videos_at_once(make_world) -> None:
    world = await make_world(
        emulator_options={"generation_time": lambda payload: 400.0}, starts_at=midday_today()
    )
    role = world.fake.add_role(world.guild, "Supporters")
    sam = world.fake.add_member(world.guild, "sam", roles=(role,))
    await world.answer(
        await world.command(
            "settings tier",
            world.admin,
            action="set",
            role=role,
            daily_seconds=20,
            longest=10,
            sound=False,
            at_once=1,
        )
    )
    first, _ = await world.started_job(await world.generate(sam, prompt="one", duration=8))
    second, status = await world.started_job(await world.generate(sam, prompt="two", duration=8))
    await eventually(lambda: world.emulator.submit_count == 1, what="the first submitted")
    job = next(iter(world.emulator.jobs.values()))
    assert job.payload["sound"] is False, "no sound unless asked, for a tier without sound"
    await world.wait_for_status(status, "Waiting in line")
    assert world.emulator.submit_count == 1, "one at once for this tier"
    refused = await world.answer(await world.generate(sam, prompt="three", duration=5))
    assert "over your daily quota of 20 s" in refused.content
    usage = embed_text(await world.answer(await world.command("usage", sam)))
    assert "Daily quota: 20 s (4 s left today)" in usage
    assert "Videos up to 10 s, without sound, 1 at once" in usage
    assert f"From your roles: <@&{role.id}>" in usage
    mine = embed_text(await world.answer(await world.command("usage", world.bob)))
    assert "Videos up to 15 s, with sound, 2 at once" in mine
    assert (first, second) == (1, 2)


async def test_tiers_are_shown_and_removed(supporters) -> None:
    world, role, sam = supporters
    shown = await world.answer(await world.command("settings show", world.bob))
    buttons = [c for row in shown.components for c in row.get("components", [])]
    click = await world.fake.click_button(shown, buttons[1]["custom_id"], world.bob)
    await click.wait_ack()
    assert f"<@&{role.id}> · 20 s a day" in embed_text(world.fake.message(shown.id))
    removed = await world.answer(
        await world.command("settings tier", world.admin, action="remove", role=role)
    )
    assert removed.content == f"✅ <@&{role.id}> has no tier any more."
    await world.started_job(await world.generate(sam, duration=15))


async def test_moderators_block_and_unblock_and_it_is_audited(make_world) -> None:
    world = await make_world(emulator_options={"workers": 0})
    audit = world.fake.add_text_channel(world.guild, "mod-log")
    await world.answer(await world.command("settings audit", world.admin, channel=audit))
    job_id, notice_status = await world.started_job(await world.generate(prompt="waiting"))
    refused = await moderate(world, "block", world.bob, member=world.alice, days=2)
    assert refused == "Only moderators can do that."
    blocked = await moderate(
        world,
        "block",
        world.mod_by_role,
        member=world.alice,
        days=2,
        reason="Spam.",
        cancel_waiting=True,
    )
    assert blocked.startswith(f"✅ <@{world.alice.id}> may not make videos")
    assert "Videos cancelled that had not started generating: 1." in blocked
    await world.wait_for_status(notice_status, "Cancelled")
    line = await world.fake.wait_for_message(audit, lambda m: "blocked" in (m.content or ""))
    assert f"<@{world.mod_by_role.id}> blocked <@{world.alice.id}> until" in line.content
    assert "> Spam." in line.content

    refused = await world.answer(await world.generate(prompt="again"))
    assert refused.ephemeral
    assert TIMESTAMP.search(refused.content)
    assert refused.content.startswith("🚫 You may not make videos on this server until <t:")
    assert ": Spam. Nothing was sent or charged." in refused.content
    form = await world.answer(await world.command("multishot", prompt="a day at the fair"))
    assert form.content == refused.content, "refused before the form"
    await world.started_job(await world.generate(world.bob, prompt="bob's"))

    lifted = await moderate(world, "unblock", world.mod_by_permission, member=world.alice)
    assert lifted == f"✅ <@{world.alice.id}> may make videos again."
    await world.fake.wait_for_message(audit, lambda m: "lifted the block" in (m.content or ""))
    await world.started_job(await world.generate(prompt="allowed again"))
    again = await moderate(world, "unblock", world.mod_by_role, member=world.alice)
    assert again == f"<@{world.alice.id}> is not blocked."
    assert job_id == 1


async def test_a_blocked_members_reroll_is_refused(world: World) -> None:
    job_id, _ = await world.started_job(await world.generate(world.bob))
    notice = await world.wait_for_notice(job_id)
    await moderate(world, "block", world.mod_by_role, member=world.alice, days=1)
    pressed = await world.fake.click_button(notice, f"video:reroll:{job_id}", world.alice)
    answer = await world.answer(pressed)
    assert answer.ephemeral
    assert answer.content.startswith("🚫 You may not make videos on this server until <t:")
    assert world.emulator.submit_count == 1


FLAGGED = "Content moderation: the prompt was flagged"


async def test_strikes_block_a_member_who_is_told_privately(world: World) -> None:
    audit = world.fake.add_text_channel(world.guild, "mod-log")
    await world.answer(await world.command("settings audit", world.admin, channel=audit))
    world.emulator.script_outcomes(
        JobOutcome.fail(FLAGGED),
        JobOutcome.fail("the model could not render it"),
        JobOutcome.fail(FLAGGED),
        JobOutcome.fail(FLAGGED),
    )
    interactions = []
    for number in range(4):
        interaction = await world.generate(prompt=f"attempt {number}")
        job_id, _ = await world.started_job(interaction)
        await world.wait_for_notice(job_id)
        interactions.append(interaction)
    line = await world.fake.wait_for_message(
        audit, lambda m: "is blocked until" in (m.content or "")
    )
    assert f"<@{world.alice.id}> is blocked until" in line.content
    assert "(the last one **#4**)" in line.content
    shown = await moderate(world, "strikes", world.mod_by_role, member=world.alice)
    assert shown.startswith(f"<@{world.alice.id}> has 0 strikes"), "spent by the block"
    told = await interactions[-1].wait_followup(lambda m: "RunComfy refused" in (m.content or ""))
    assert told.ephemeral
    assert told.content.startswith(
        "🚫 RunComfy refused 3 of your videos on this server for their content within 24 hours"
    )
    refused = await world.answer(await world.generate(prompt="once more"))
    assert "after several videos RunComfy refused for their content" in refused.content
    assert world.emulator.submit_count == 4


async def test_strikes_are_shown_and_cleared_and_can_be_turned_off(world: World) -> None:
    saved = await world.answer(await world.command("settings strikes", world.admin, count=0))
    assert "Refused videos that block a member\noff" in embed_text(saved)
    world.emulator.script_outcomes(*[JobOutcome.fail(FLAGGED)] * 3)
    for number in range(3):
        job_id, _ = await world.started_job(await world.generate(prompt=f"attempt {number}"))
        await world.wait_for_notice(job_id)
    shown = await moderate(world, "strikes", world.mod_by_role, member=world.alice)
    assert shown.startswith(f"<@{world.alice.id}> has 3 strikes in the last 24 hours")
    assert "**#1** · <t:" in shown
    assert FLAGGED in shown
    await world.started_job(await world.generate(prompt="still allowed"))
    cleared = await moderate(
        world, "strikes", world.mod_by_role, member=world.alice, action="clear"
    )
    assert cleared == f"✅ <@{world.alice.id}>'s strikes are cleared."
    again = await moderate(world, "strikes", world.mod_by_role, member=world.alice)
    assert again.startswith(f"<@{world.alice.id}> has 0 strikes")


async def test_a_member_whose_command_is_too_old_is_told_by_direct_message(make_world) -> None:
    """The video fails after the command's token may no longer be used (13 minutes)."""
    world = await make_world(emulator_options={"generation_time": lambda payload: 14 * 60.0})
    await world.answer(await world.command("settings strikes", world.admin, count=1))
    direct: list[FakeMessage] = []
    world.fake.on_message_created(
        lambda message: direct.append(message) if message.guild_id is None else None
    )
    world.emulator.script_outcomes(JobOutcome.fail(FLAGGED))
    job_id, _ = await world.started_job(await world.generate(prompt="too much"))
    await world.wait_for_notice(job_id, within=30)
    await eventually(lambda: bool(direct), what="a direct message")
    assert direct[0].content.startswith("🚫 RunComfy refused 1 of your videos on this server")
    assert direct[0].channel.recipient is world.alice.user
