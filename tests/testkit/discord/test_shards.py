"""Sharding as Discord does it, checked at the wire and through discord.py's
AutoShardedClient: IDENTIFY with ``[shard_id, num_shards]``, each guild's events only to
its shard, DMs to shard 0, 4010 for an invalid shard and 4011 when sharding is required."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import discord
import pytest
from discord.ext import commands

from testkit.discord import FakeDiscord, FakeDiscordUsageError, FakeGuild

from .conftest import MakeFake, StartBot
from .sample_bot import SampleBot


class ShardedSampleBot(SampleBot, commands.AutoShardedBot):
    """The sample bot on discord.py's AutoShardedBot (``shard_count``/``shard_ids``)."""


def identify(token: str, shard: object = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "token": token,
        "intents": discord.Intents.default().value,
        "properties": {"os": "linux", "browser": "test", "device": "test"},
    }
    if shard is not None:
        data["shard"] = shard
    return {"op": 2, "d": data}


async def raw_identify(
    fake: FakeDiscord, shard: object = None
) -> tuple[list[dict[str, Any]], int | None]:
    """IDENTIFY over a plain websocket; the frames received until READY's GUILD_CREATEs have
    arrived (or the server closed), and the close code if it closed."""
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url) as ws:
        await ws.receive_json(timeout=2)  # HELLO
        await ws.send_json(identify(fake.bot_token, shard))
        while True:
            try:
                message = await ws.receive(timeout=0.3)
            except TimeoutError:
                return frames, None
            if message.type is not aiohttp.WSMsgType.TEXT:
                return frames, ws.close_code
            frames.append(json.loads(message.data))


def dispatched(frames: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [frame["d"] for frame in frames if frame.get("t") == event]


def two_shard_world(fake: FakeDiscord) -> tuple[FakeGuild, FakeGuild]:
    return fake.add_guild("Even", shard=(0, 2)), fake.add_guild("Odd", shard=(1, 2))


async def test_guilds_can_be_placed_on_a_shard(make_fake: MakeFake) -> None:
    fake = await make_fake()
    ids = []
    for shard_id in (0, 1, 2, 0, 2, None, None):
        guild = fake.add_guild("g", shard=None if shard_id is None else (shard_id, 3))
        ids.append(guild.id)
        if shard_id is not None:
            assert (guild.id >> 22) % 3 == shard_id == fake.shard_of(guild, 3)
    assert ids == sorted(set(ids)), "ids stay unique and time-ordered"
    with pytest.raises(FakeDiscordUsageError):
        fake.add_guild("nowhere", shard=(2, 2))


async def test_gateway_bot_recommends_shards_and_counts_session_starts(
    make_fake: MakeFake,
) -> None:
    fake = await make_fake(recommended_shards=3, max_concurrency=2)
    client = discord.AutoShardedClient(intents=discord.Intents.none())
    await client.login(fake.bot_token)
    try:
        before = await client.fetch_session_start_limits()
        assert (before.max_concurrency, before.total) == (2, 1000)
        shards, url, _ = await client.http.get_bot_gateway()
        assert shards == 3
        assert url == fake.gateway_url.rstrip("/")
        await raw_identify(fake, [0, 3])
        after = await client.fetch_session_start_limits()
        assert after.remaining == before.remaining - 1
    finally:
        await client.close()


async def test_ready_and_guild_creates_carry_only_the_shards_guilds(make_fake: MakeFake) -> None:
    fake = await make_fake()
    even, odd = two_shard_world(fake)
    for shard_id, guild in ((0, even), (1, odd)):
        frames, closed = await raw_identify(fake, [shard_id, 2])
        assert closed is None
        [ready] = dispatched(frames, "READY")
        assert ready["shard"] == [shard_id, 2]
        assert ready["guilds"] == [{"id": str(guild.id), "unavailable": True}]
        assert [g["id"] for g in dispatched(frames, "GUILD_CREATE")] == [str(guild.id)]
    frames, _ = await raw_identify(fake)
    [ready] = dispatched(frames, "READY")
    assert "shard" not in ready
    assert len(ready["guilds"]) == 2


@pytest.mark.parametrize(
    "shard", [[2, 2], [-1, 2], [0, 0], [0], [0, 1, 2], "0,1", [True, 2], [0.0, 1]]
)
async def test_an_invalid_shard_is_closed_with_4010(make_fake: MakeFake, shard: object) -> None:
    fake = await make_fake()
    frames, closed = await raw_identify(fake, shard)
    assert closed == 4010
    assert dispatched(frames, "READY") == []
    assert fake.sessions == []


async def test_too_many_guilds_for_one_session_is_closed_with_4011(make_fake: MakeFake) -> None:
    fake = await make_fake(max_guilds_per_session=1)
    two_shard_world(fake)
    assert (await raw_identify(fake))[1] == 4011
    assert (await raw_identify(fake, [0, 1]))[1] == 4011
    frames, closed = await raw_identify(fake, [1, 2])
    assert closed is None
    assert len(dispatched(frames, "GUILD_CREATE")) == 1


async def test_two_processes_on_two_shards_each_see_only_their_guilds(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake()
    even, odd = two_shard_world(fake)
    channels = {g: fake.add_text_channel(g, "videos") for g in (even, odd)}
    members = {g: fake.add_member(g, "alice") for g in (even, odd)}
    bots = [
        await start_bot(fake, cls=ShardedSampleBot, shard_count=2, shard_ids=[shard_id])
        for shard_id in (0, 1)
    ]
    assert sorted(s.shard for s in fake.sessions if s.shard) == [[0, 2], [1, 2]]
    for bot, mine, other in ((bots[0], even, odd), (bots[1], odd, even)):
        assert isinstance(bot, commands.AutoShardedBot)
        assert [g.id for g in bot.guilds] == [mine.id]
        assert bot.get_guild(other.id) is None
        guild = bot.get_guild(mine.id)
        assert guild is not None
        assert guild.shard_id == fake.shard_of(mine, 2)
    for guild, owner, bystander in ((even, bots[0], bots[1]), (odd, bots[1], bots[0])):
        interaction = await fake.invoke_slash(
            channels[guild], members[guild], "video", subcommand="status", options={"job": "a"}
        )
        await interaction.wait_ack()
        assert owner.interactions[-1].guild_id == guild.id
        assert all(i.guild_id != guild.id for i in bystander.interactions)
    assert len(bots[0].interactions) == len(bots[1].interactions) == 1

    created = asyncio.create_task(bots[1].wait_for("guild_channel_create", timeout=5))
    await asyncio.sleep(0)
    late = fake.add_text_channel(odd, "late")
    assert (await created).id == late.id
    assert bots[0].get_channel(late.id) is None

    removed = asyncio.create_task(bots[0].wait_for("guild_remove", timeout=5))
    await asyncio.sleep(0)
    fake.remove_bot_from_guild(even)
    assert (await removed).id == even.id
    assert bots[1].get_guild(odd.id) is not None
    session_of_odd = next(s for s in fake.sessions if s.shard == [1, 2])
    assert not [p for p in session_of_odd.buffer if p.get("t") == "GUILD_DELETE"]


async def test_direct_messages_go_to_shard_zero_only(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake()
    _, odd = two_shard_world(fake)
    alice = fake.add_member(odd, "alice")
    bots = [
        await start_bot(fake, cls=ShardedSampleBot, shard_count=2, shard_ids=[shard_id])
        for shard_id in (0, 1)
    ]
    user = await bots[1].fetch_user(alice.id)
    sent = await user.send("your video is ready")
    for _ in range(100):
        if bots[0].seen_messages:
            break
        await asyncio.sleep(0.02)
    assert [m.id for m in bots[0].seen_messages] == [sent.id]
    assert bots[1].seen_messages == []


async def test_one_process_runs_every_recommended_shard(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake(recommended_shards=2)
    even, odd = two_shard_world(fake)
    bot = await start_bot(fake, cls=ShardedSampleBot, reidentify_delay=0.0)
    assert isinstance(bot, commands.AutoShardedBot)
    assert bot.shard_count == 2
    assert sorted(bot.shards) == [0, 1]
    assert sorted(s.shard for s in fake.sessions if s.shard) == [[0, 2], [1, 2]]
    assert {g.id for g in bot.guilds} == {even.id, odd.id}
    for guild in (even, odd):
        channel = fake.add_text_channel(guild, "videos")
        member = fake.add_member(guild, "bob")
        for _ in range(100):
            if bot.get_channel(channel.id) is not None:
                break
            await asyncio.sleep(0.02)
        interaction = await fake.invoke_slash(
            channel, member, "video", subcommand="status", options={"job": "a"}
        )
        await interaction.wait_ack()
    assert [i.guild_id for i in bot.interactions] == [even.id, odd.id]


async def test_an_interaction_without_its_shard_connected_is_a_usage_error(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake()
    _, odd = two_shard_world(fake)
    channel = fake.add_text_channel(odd, "videos")
    alice = fake.add_member(odd, "alice")
    await start_bot(fake, cls=ShardedSampleBot, shard_count=2, shard_ids=[0])
    with pytest.raises(FakeDiscordUsageError, match="shard"):
        await fake.invoke_slash(channel, alice, "video", subcommand="status", options={"job": "a"})
