"""Servers and channels going away, as the real discord.py client sees them: the gateway
event it turns into ``on_guild_remove`` / ``on_guild_channel_delete`` / an update, then
Discord's REST refusals for what is gone or hidden."""

from __future__ import annotations

import asyncio

import discord
import pytest

from testkit.discord import FakeDiscordUsageError, permissions

from .conftest import Scene
from .sample_bot import SampleBot


def _messageable(bot: SampleBot, channel_id: int) -> discord.PartialMessageable:
    """A channel handle that outlives the cache, as a bot holding only an id would have."""
    return bot.get_partial_messageable(channel_id)


async def test_removing_the_bot_sends_guild_delete_and_closes_its_channels(
    scene: Scene, bot: SampleBot
) -> None:
    fake = scene.fake
    removed = asyncio.create_task(bot.wait_for("guild_remove", timeout=5))
    await asyncio.sleep(0)
    fake.remove_bot_from_guild(scene.guild)
    guild = await removed
    assert guild.id == scene.guild.id
    assert bot.get_guild(scene.guild.id) is None
    [session] = fake.sessions
    [event] = [p for p in session.buffer if p.get("t") == "GUILD_DELETE"]
    assert event["d"] == {"id": str(scene.guild.id)}
    channel = _messageable(bot, scene.channel.id)
    with pytest.raises(discord.Forbidden) as sent:
        await channel.send("anyone there?")
    assert (sent.value.status, sent.value.code) == (403, 50001)
    with pytest.raises(discord.Forbidden) as fetched:
        await bot.fetch_channel(scene.channel.id)
    assert fetched.value.code == 50001
    with pytest.raises(discord.Forbidden):
        await bot.fetch_guild(scene.guild.id)
    with pytest.raises(FakeDiscordUsageError):
        await fake.invoke_slash(
            scene.channel, scene.alice, "video", subcommand="status", options={"job": "1"}
        )


async def test_a_removed_guild_is_not_in_the_next_ready(scene: Scene, bot: SampleBot) -> None:
    fake = scene.fake
    other = fake.add_guild("Other")
    fake.remove_bot_from_guild(scene.guild)
    await fake.disconnect_gateway(resumable=False)
    await fake.wait_until_ready(new=True)
    await asyncio.sleep(0.2)
    assert bot.get_guild(scene.guild.id) is None
    assert bot.get_guild(other.id) is not None


async def test_deleting_a_channel_sends_channel_delete_then_unknown_channel(
    scene: Scene, bot: SampleBot
) -> None:
    fake = scene.fake
    kept = fake.add_text_channel(scene.guild, "kept")
    deleted = asyncio.create_task(bot.wait_for("guild_channel_delete", timeout=5))
    await asyncio.sleep(0)
    fake.delete_channel(scene.channel)
    channel = await deleted
    assert isinstance(channel, discord.TextChannel)
    assert (channel.id, channel.name) == (scene.channel.id, "videos")
    guild = bot.get_guild(scene.guild.id)
    assert guild is not None
    assert guild.get_channel(scene.channel.id) is None
    with pytest.raises(discord.NotFound) as sent:
        await _messageable(bot, scene.channel.id).send("hello?")
    assert (sent.value.status, sent.value.code) == (404, 10003)
    posted = await _messageable(bot, kept.id).send("still here")
    assert fake.message(posted.id).channel is kept
    with pytest.raises(FakeDiscordUsageError):
        fake.delete_channel(scene.channel)


async def test_revoked_view_channel_is_an_update_then_missing_access(
    scene: Scene, bot: SampleBot
) -> None:
    fake = scene.fake
    updated = asyncio.create_task(bot.wait_for("guild_channel_update", timeout=5))
    await asyncio.sleep(0)
    fake.revoke_channel_access(scene.channel)
    before, after = await updated
    assert isinstance(after, discord.TextChannel)
    me = after.guild.me
    assert before.permissions_for(me).view_channel
    assert not after.permissions_for(me).view_channel
    assert not after.permissions_for(me).send_messages
    [session] = fake.sessions
    update = [p for p in session.buffer if p.get("t") == "CHANNEL_UPDATE"][-1]
    [mine] = [o for o in update["d"]["permission_overwrites"] if o["id"] == str(me.id)]
    assert int(mine["deny"]) & permissions.VIEW_CHANNEL
    assert not int(mine["allow"]) & permissions.VIEW_CHANNEL
    with pytest.raises(discord.Forbidden) as sent:
        await _messageable(bot, scene.channel.id).send("hello?")
    assert (sent.value.status, sent.value.code) == (403, 50001)
    fake.set_bot_permissions(scene.channel, permissions.DEFAULT_BOT)
    await _messageable(bot, scene.channel.id).send("back again")


async def test_administrator_overrides_a_view_channel_deny(scene: Scene, bot: SampleBot) -> None:
    fake = scene.fake
    fake.revoke_channel_access(scene.channel)
    fake.set_bot_permissions(scene.channel, permissions.ADMINISTRATOR)
    fake.revoke_channel_access(scene.channel)
    await _messageable(bot, scene.channel.id).send("admins see everything")


async def test_a_member_who_left_can_no_longer_act_there(scene: Scene, bot: SampleBot) -> None:
    """GUILD_MEMBER_REMOVE; a former member's command or click is a usage error, as a
    former member sees none of the server's channels on Discord."""
    fake = scene.fake
    fake.remove_member(scene.guild, scene.alice)
    assert scene.alice.user.id not in scene.guild.members
    with pytest.raises(FakeDiscordUsageError, match="not a member"):
        await fake.invoke_slash(
            scene.channel, scene.alice, "video", subcommand="status", options={"job": "1"}
        )
    with pytest.raises(FakeDiscordUsageError, match="not a member"):
        fake.remove_member(scene.guild, scene.alice)


async def test_a_direct_message_needs_a_shared_server(scene: Scene, bot: SampleBot) -> None:
    fake = scene.fake
    elsewhere = fake.add_guild("Elsewhere")
    fake.add_member(elsewhere, "alice", user=scene.alice.user)
    fake.remove_bot_from_guild(scene.guild)
    sent = await (await bot.create_dm(discord.Object(scene.alice.id))).send("still here")
    assert [m.id for m in fake.direct_messages(scene.alice.user)] == [sent.id]
    with pytest.raises(discord.Forbidden) as refused:
        await (await bot.create_dm(discord.Object(scene.bob.id))).send("anyone?")
    assert (refused.value.status, refused.value.code) == (403, 50007)
    assert fake.direct_messages(scene.bob.user) == []
