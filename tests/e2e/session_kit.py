"""Driving prompt sessions end to end: start one, find its card, gallery and entries,
vote, and read the recap, as members and moderators do."""

from __future__ import annotations

from typing import Any

from testkit.discord import FakeChannel, FakeInteraction, FakeMember, FakeMessage
from tests.e2e.harness import World, is_notice

RECAP = ("· recap", "· Auswertung")
"""The recap's last line ends so, in English and in German."""


def is_recap(message: FakeMessage) -> bool:
    return message.is_v2 and message.text.endswith(RECAP)


async def session_command(
    world: World,
    subcommand: str,
    member: FakeMember | None = None,
    *,
    in_channel: FakeChannel | None = None,
    **options: Any,
) -> FakeInteraction:
    """`/session <subcommand>` as `member` (the moderator marta by default)."""
    return await world.fake.invoke_slash(
        in_channel or world.channel,
        member or world.mod_by_permission,
        "session",
        subcommand=subcommand,
        options=options,
    )


async def said(interaction: FakeInteraction) -> str:
    """The private answer's text (its embed's, for an embed)."""
    answer = await interaction.wait_answer(timeout=10)
    assert answer.ephemeral, "session answers are private"
    if answer.embeds:
        embed = answer.embeds[0]
        fields = " ".join(f"{f['name']} {f['value']}" for f in embed.get("fields", []))
        return " ".join([embed.get("title", ""), embed.get("description", ""), fields])
    return answer.content or ""


def card_of(world: World) -> FakeMessage:
    [card] = [
        m
        for m in world.fake.channel_messages(world.channel)
        if m.is_v2 and "Session #" in m.text and not is_recap(m)
    ]
    return card


async def start_session(
    world: World,
    member: FakeMember | None = None,
    *,
    theme: str = "Winter foxes",
    minutes: int = 60,
    **options: Any,
) -> tuple[FakeMessage, FakeChannel]:
    """A session started in the world's channel: its card and its gallery thread."""
    answer = await said(
        await session_command(world, "start", member, theme=theme, minutes=minutes, **options)
    )
    assert "has started" in answer, answer
    threads = world.fake.threads_of(world.channel)
    card = card_of(world)
    [thread] = [t for t in threads if t.id == card.id]
    return card, thread


async def entry_in(world: World, thread: FakeChannel, job_id: int) -> FakeMessage:
    return await world.fake.wait_for_message(thread, lambda m: is_notice(m, job_id), timeout=20)


def vote_id(job_id: int) -> str:
    return f"session:vote:{job_id}"


def vote_label(message: FakeMessage, job_id: int) -> str:
    [button] = [b for b in message.buttons if b.get("custom_id") == vote_id(job_id)]
    return str(button.get("label"))


def vote_disabled(message: FakeMessage, job_id: int) -> bool:
    [button] = [b for b in message.buttons if b.get("custom_id") == vote_id(job_id)]
    return bool(button.get("disabled"))


async def vote(world: World, entry: FakeMessage, job_id: int, member: FakeMember) -> str:
    """Press the entry's Vote button; what the member is told (privately)."""
    click = await world.fake.click_button(entry, vote_id(job_id), member)
    answer = await click.wait_answer(timeout=10)
    assert answer.ephemeral
    return answer.content or ""


async def recap_in(world: World, channel: FakeChannel, within: float = 30.0) -> FakeMessage:
    return await world.fake.wait_for_message(channel, is_recap, timeout=within)


def recaps_in(world: World, channel: FakeChannel) -> list[FakeMessage]:
    return [m for m in world.fake.channel_messages(channel) if is_recap(m)]
