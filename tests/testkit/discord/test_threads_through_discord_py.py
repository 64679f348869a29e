"""Threads through the real client: a session card whose thread (Message.create_thread) is
the gallery, a Components V2 entry posted in it and voted on, a slash command invoked in a
thread, the thread in discord.py's cache as on real Discord (created, archived, unarchived,
deleted), and thread refusals reaching discord.py as the right HTTPException."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from testkit.discord import permissions
from testkit.waiting import eventually

from .conftest import Scene, StartBot
from .layout_bot import LayoutBot

BOT = permissions.DEFAULT_BOT | permissions.THREADS
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 128


@pytest.fixture
async def thread_bot(scene: Scene, start_bot: StartBot, tmp_path: Path) -> LayoutBot:
    scene.fake.set_bot_permissions(scene.channel, BOT)
    bot = await start_bot(scene.fake, cls=LayoutBot)
    assert isinstance(bot, LayoutBot)
    bot.render_path = tmp_path / "render.mp4"
    bot.render_path.write_bytes(VIDEO)
    return bot


def guild_of(bot: discord.Client, scene: Scene) -> discord.Guild:
    guild = bot.get_guild(scene.guild.id)
    assert guild is not None
    return guild


async def test_a_session_card_opens_a_gallery_thread_with_entries(
    scene: Scene, thread_bot: LayoutBot
) -> None:
    fake = scene.fake
    await fake.invoke_slash(scene.channel, scene.alice, "gallery", options={"theme": "cats"})
    await eventually(lambda: bool(thread_bot.cards), within=5.0, what="the entry in the thread")
    assert not thread_bot.failures
    [thread] = fake.threads_of(scene.channel)
    [card] = fake.channel_messages(scene.channel)
    assert (thread.id, thread.name, card.content) == (card.id, "cats", "Session: cats")
    assert card.thread is thread
    [entry] = fake.channel_messages(thread)
    assert entry.is_v2
    assert entry.attachment_for(entry.media_items[0]) is not None
    cached = guild_of(thread_bot, scene).get_thread(thread.id)
    assert isinstance(cached, discord.Thread)
    assert cached.parent_id == scene.channel.id
    assert guild_of(thread_bot, scene).get_channel_or_thread(thread.id) is cached
    vote = next(b["custom_id"] for b in entry.buttons if "vote" in b["custom_id"])
    click = await fake.click_button(entry, vote, scene.bob)
    assert (await click.wait_ack()).type == 4
    [(_, voter, where)] = thread_bot.votes
    assert voter == scene.bob.id
    assert isinstance(where, discord.Thread)
    assert where.id == thread.id


async def test_a_slash_command_in_a_thread_sees_the_thread(
    scene: Scene, thread_bot: LayoutBot
) -> None:
    fake = scene.fake
    thread = fake.add_thread(scene.channel, "gallery", owner=scene.alice)
    await eventually(
        lambda: guild_of(thread_bot, scene).get_thread(thread.id) is not None,
        within=5.0,
        what="THREAD_CREATE to reach discord.py",
    )
    interaction = await fake.invoke_slash(thread, scene.alice, "where")
    answer = await interaction.wait_answer()
    assert answer.content == f"Thread {thread.id} True"
    assert answer.channel is thread
    sending = await fake.invoke_slash(thread, scene.alice, "card", options={"how": "send"})
    posted = await fake.wait_for_message(thread, lambda m: m.is_v2)
    assert posted.author.id == fake.bot_user.id
    assert (await sending.wait_followup()).content == "Card sent."


async def test_discord_py_follows_a_thread_through_archive_and_deletion(
    scene: Scene, thread_bot: LayoutBot
) -> None:
    fake = scene.fake
    guild = guild_of(thread_bot, scene)
    thread = fake.add_thread(scene.channel, "gallery")
    await eventually(lambda: guild.get_thread(thread.id) is not None, within=5.0, what="create")
    fake.archive_thread(thread)
    await eventually(lambda: guild.get_thread(thread.id) is None, within=5.0, what="archive")
    fetched = await thread_bot.fetch_channel(thread.id)
    assert isinstance(fetched, discord.Thread)
    assert fetched.archived
    sent = await fetched.send("back again")
    assert sent.channel.id == thread.id
    await eventually(lambda: guild.get_thread(thread.id) is not None, within=5.0, what="unarchive")
    fake.delete_thread(thread)
    await eventually(lambda: guild.get_thread(thread.id) is None, within=5.0, what="delete")


async def test_threads_open_before_login_are_in_the_cache(
    scene: Scene, start_bot: StartBot
) -> None:
    """GUILD_CREATE carries the active threads the bot can see, and only those."""
    fake = scene.fake
    active = fake.add_thread(scene.channel, "active")
    archived = fake.add_thread(scene.channel, "archived")
    fake.archive_thread(archived)
    bot = await start_bot(fake, cls=LayoutBot)
    guild = guild_of(bot, scene)
    assert [t.id for t in guild.threads] == [active.id]


async def test_the_bot_opens_threads_with_and_without_a_message(
    scene: Scene, thread_bot: LayoutBot
) -> None:
    channel = guild_of(thread_bot, scene).get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    card = await channel.send("Session: dogs")
    thread = await card.create_thread(name="dogs")
    assert (thread.id, thread.parent_id, thread.owner_id) == (
        card.id,
        channel.id,
        thread_bot.user.id if thread_bot.user else 0,
    )
    await thread.send("first entry")
    public = await channel.create_thread(name="chat", type=discord.ChannelType.public_thread)
    assert public.type is discord.ChannelType.public_thread
    assert [t.name for t in scene.fake.threads_of(scene.channel)] == ["dogs", "chat"]
    edited = await thread.edit(archived=True)
    assert edited.archived


async def test_thread_refusals_reach_discord_py(scene: Scene, thread_bot: LayoutBot) -> None:
    fake = scene.fake
    channel = guild_of(thread_bot, scene).get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    card = await channel.send("Session: birds")
    thread = await card.create_thread(name="birds")
    with pytest.raises(discord.HTTPException) as raised:
        await card.create_thread(name="again")
    assert (raised.value.status, raised.value.code) == (400, 160004)
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.create_thread(name="quiet")
    assert forbidden.value.code == 50013
    entry = await thread.send("entry")
    fake.archive_thread(fake.threads_of(scene.channel)[0])
    with pytest.raises(discord.HTTPException) as raised:
        await entry.edit(content="edited")
    assert raised.value.code == 50083
    fake.archive_thread(fake.threads_of(scene.channel)[0], locked=True)
    with pytest.raises(discord.HTTPException) as raised:
        await thread.send("late entry")
    assert raised.value.code == 160005
    fake.set_bot_permissions(scene.channel, permissions.DEFAULT_BOT)
    with pytest.raises(discord.Forbidden) as forbidden:
        await (await channel.send("Session: fish")).create_thread(name="fish")
    assert forbidden.value.code == 50013
