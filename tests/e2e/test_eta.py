"""When the video will be ready, end to end: the status card shows an estimate as a
Discord timestamp, `/video status` and `/video mine` show the same one, a plain job's
card is edited at most four times, a job past its estimate says it takes longer than
usual, a delivered card leads to the video, and a job that outlives the interaction's
token keeps a truthful card through the channel."""

from __future__ import annotations

import re

from bot.tuning import Tuning
from testkit.discord import FakeMessage
from testkit.waiting import eventually
from tests.e2e.harness import SPEED, World, embed_text

READY = re.compile(r"(?:Ready|Fertig) ≈ <t:(\d+):R>")
LONGER = "Taking longer than usual"


def eta_of(message: FakeMessage) -> int | None:
    found = READY.search(embed_text(message))
    return int(found[1]) if found else None


def statuses(message: FakeMessage) -> list[str]:
    """The status field of every version of a status message, oldest first."""
    shown = []
    for version in message.history:
        for embed in version.embeds:
            shown += [f["value"] for f in embed.get("fields", []) if f["name"] == "Status"]
    return shown


def video_link(world: World, notice: FakeMessage) -> str:
    return f"https://discord.com/channels/{world.guild.id}/{world.channel.id}/{notice.id}"


async def test_a_plain_job_shows_when_it_will_be_ready_in_at_most_four_edits(make_world) -> None:
    world = await make_world(emulator_options={"workers": 0})
    job_id, status = await world.started_job(await world.generate(duration=5))
    queued = await world.wait_for_status(status, "Queued at RunComfy")
    ready = eta_of(queued)
    assert ready is not None, embed_text(queued)
    assert ready > world.clock.now()
    assert "(estimate; no runs seen yet — assuming a run of about 2 min)" in embed_text(queued)

    asked = await world.answer(await world.command("status", job=job_id))
    assert asked.ephemeral
    assert eta_of(asked) == ready, "/video status shows the card's estimate"
    mine = await world.answer(await world.command("mine"))
    assert f"<t:{ready}:R>" in embed_text(mine)

    world.emulator.set_workers(1)
    running = await world.wait_for_status(status, "Generating")
    assert eta_of(running) is not None
    notice = await world.wait_for_notice(job_id, within=30)
    final = await world.wait_for_status(status, "Delivered")
    assert f"[see the video]({video_link(world, notice)})" in embed_text(final)
    assert eta_of(final) is None

    shown = statuses(status)
    assert status.edit_count <= 4, shown
    assert not [text for text in shown if "Sending to RunComfy" in text], "a passing state"


async def test_a_job_past_its_estimate_says_it_takes_longer_than_usual(make_world) -> None:
    world = await make_world(emulator_options={"generation_time": lambda payload: 400.0})
    job_id, status = await world.started_job(await world.generate(duration=5))
    running = await world.wait_for_status(status, "Generating")
    ready = eta_of(running)
    assert ready is not None

    late = await world.wait_for_status(status, LONGER, within=15)
    assert world.clock.now() >= ready - 1, "not before the estimate passed"
    assert "Generating" in embed_text(late), "the same state: the reminder came at the time"
    assert "<t:" not in statuses(late)[-1], "never a time in the past"
    mine = await world.answer(await world.command("mine"))
    assert LONGER in embed_text(mine)

    notice = await world.wait_for_notice(job_id, within=30)
    final = await world.wait_for_status(status, "Delivered")
    assert video_link(world, notice) in embed_text(final)
    assert LONGER not in embed_text(final)


async def test_a_job_outliving_the_token_keeps_a_truthful_card_through_the_channel(
    make_world,
) -> None:
    world = await make_world(
        fake_options={"token_lifetime": 90.0 / SPEED},
        emulator_options={"generation_time": lambda payload: 400.0},
        tuning=Tuning(
            channel_edit_interval=0.07,
            status_refresh_interval=0.07,
            guild_ready_timeout=0.05,
            identify_interval=0.0,
            interaction_reply_window=60.0,
        ),
    )
    interaction = await world.generate(duration=5)
    job_id, status = await world.started_job(interaction)
    assert status is interaction.original, "the card is the command's reply"
    await world.wait_for_status(status, "Generating")

    await world.wait_for_status(status, LONGER, within=15)
    assert channel_edits(world, status) >= 1, "past the token's life, through the channel"
    notice = await world.wait_for_notice(job_id, within=30)
    await world.wait_for_status(status, "Delivered")
    final = await world.wait_for_status(status, video_link(world, notice))
    assert LONGER not in embed_text(final)
    assert not [error for error in world.fake.errors if error.code == 10015]
    await eventually(lambda: not world.bot.outbox.pending_edits(), what="the last edit")
    posted = [
        message
        for message in world.fake.channel_messages(world.channel)
        if not message.ephemeral and message.author.id == world.bot.user.id
    ]
    assert posted == [status, notice], "no channel message spent on the card"


def channel_edits(world: World, message: FakeMessage) -> int:
    return sum(
        1
        for record in world.fake.requests
        if record.method == "PATCH"
        and record.status < 400
        and record.path.endswith(f"/channels/{world.channel.id}/messages/{message.id}")
    )
