"""Login, command sync, READY/GUILD_CREATE, compression, resume and restart with real discord.py."""

from __future__ import annotations

import asyncio
import json
import zlib

import aiohttp
import discord
import pytest

from testkit.discord import FakeDiscord, permissions

from .conftest import MakeFake, Scene, StartBot
from .sample_bot import SampleBot


async def test_login_sync_and_ready_fill_the_cache(scene: Scene, bot: SampleBot) -> None:
    fake = scene.fake
    assert bot.user is not None
    assert bot.user.id == fake.bot_user.id
    assert bot.application_id == fake.application_id
    guild = bot.get_guild(scene.guild.id)
    assert guild is not None
    assert guild.name == "Test Guild"
    channel = guild.get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    assert guild.me is not None
    assert channel.permissions_for(guild.me).value == permissions.DEFAULT_BOT
    [video] = fake.registered_commands()
    assert video["name"] == "video"
    assert int(video["id"]) > 0
    assert video["application_id"] == str(fake.application_id)
    assert [o["name"] for o in video["options"]] == ["generate", "status", "feedback", "render"]
    assert fake.command_syncs[-1].names == ("video",)
    routes = [r.route for r in fake.requests]
    assert routes[:3] == [
        "GET /users/@me",
        "GET /oauth2/applications/@me",
        "PUT /applications/{application_id}/commands",
    ]
    assert fake.errors == []
    assert fake.unknown_routes == []


async def test_gateway_compresses_as_discord_py_asks(scene: Scene, bot: SampleBot) -> None:
    """zlib-stream here; zstd-stream when zstandard is installed (checked in a scratch venv)."""
    [session] = scene.fake.sessions
    assert session.compress == discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    assert session.intents == discord.Intents.default().value
    assert bot.latency != float("inf")


async def test_raw_gateway_frames_are_zlib_stream_with_sync_flush(scene: Scene) -> None:
    url = scene.fake.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
    inflater = zlib.decompressobj()
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        hello = await ws.receive_bytes(timeout=2)
        assert hello.endswith(b"\x00\x00\xff\xff")
        assert json.loads(inflater.decompress(hello))["op"] == 10
        await ws.send_json({"op": 1, "d": None})
        ack = json.loads(inflater.decompress(await ws.receive_bytes(timeout=2)))
        assert ack["op"] == 11


async def test_bad_token_raises_login_failure(scene: Scene) -> None:
    bot = SampleBot()
    with pytest.raises(discord.LoginFailure):
        await bot.login("not-the-token")
    await bot.close()
    [error] = scene.fake.errors
    assert (error.status, error.code, error.path) == (401, 0, "/api/v10/users/@me")


async def test_resume_replays_events_missed_while_disconnected(
    scene: Scene, bot: SampleBot
) -> None:
    fake = scene.fake
    await fake.disconnect_gateway(resumable=True)
    channel = fake.add_text_channel(scene.guild, "late-channel")
    for _ in range(100):
        if fake.resume_count and bot.get_channel(channel.id) is not None:
            break
        await asyncio.sleep(0.05)
    assert fake.resume_count == 1
    assert bot.get_channel(channel.id) is not None


async def test_invalidated_session_makes_the_bot_identify_again(
    scene: Scene, start_bot: StartBot
) -> None:
    fake = scene.fake
    await start_bot(fake, reidentify_delay=0.0)
    await fake.disconnect_gateway(resumable=False)
    session = await fake.wait_until_ready(timeout=10, new=True)
    assert session.live
    assert fake.resume_count == 0


async def test_new_bot_instance_logs_in_after_the_first_closes(
    scene: Scene, bot: SampleBot, start_bot: StartBot
) -> None:
    await bot.close()
    second = await start_bot(scene.fake)
    assert second.is_ready()
    [session] = scene.fake.sessions
    assert session.live


async def test_guild_upload_limit_reaches_discord_py(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake: FakeDiscord = await make_fake()
    boosted = fake.add_guild("Boosted", upload_limit=50 * 1024 * 1024)
    channel = fake.add_text_channel(boosted, "videos")
    alice = fake.add_member(boosted, "alice")
    bot = await start_bot(fake)
    guild = bot.get_guild(boosted.id)
    assert guild is not None
    assert guild.filesize_limit == 50 * 1024 * 1024
    interaction = await fake.invoke_slash(
        channel, alice, "video", subcommand="status", options={"job": "job-alpha"}
    )
    await interaction.wait_ack()
    assert bot.interactions[-1].filesize_limit == 50 * 1024 * 1024


async def test_unknown_routes_answer_404_and_are_recorded(scene: Scene, bot: SampleBot) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/nowhere/{x}", x=1))
    [unknown] = scene.fake.unknown_routes
    assert unknown.path == "/api/v10/nowhere/1"
    assert scene.fake.errors[-1].status == 404


async def test_members_intent_gets_members_and_chunks(scene: Scene, start_bot: StartBot) -> None:
    intents = discord.Intents.default()
    intents.members = True
    bot = await start_bot(scene.fake, intents=intents)
    guild = bot.get_guild(scene.guild.id)
    assert guild is not None
    assert guild.chunked
    member = guild.get_member(scene.alice.id)
    assert member is not None
    assert member.name == "alice"
    late = scene.fake.add_member(scene.guild, "carol")
    for _ in range(100):
        if guild.get_member(late.id) is not None:
            break
        await asyncio.sleep(0.01)
    assert guild.get_member(late.id) is not None
