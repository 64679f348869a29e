"""Channel messages through discord.py: files, limits, permissions, nonce, rate limits, outages."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import discord
import pytest

from testkit.discord import FakeDiscord, permissions

from .conftest import MakeFake, Scene, StartBot, build_scene
from .sample_bot import SampleBot


def text_channel(bot: discord.Client, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def write_file(path: Path, size: int) -> bytes:
    data = bytes(i % 251 for i in range(size))
    path.write_bytes(data)
    return data


async def test_file_is_recorded_byte_exact_and_served(
    scene: Scene, bot: SampleBot, tmp_path: Path
) -> None:
    data = write_file(tmp_path / "clip.mp4", 300_000)
    channel = text_channel(bot, scene.channel.id)
    sent = await channel.send("Here it is", file=discord.File(tmp_path / "clip.mp4"))
    recorded = scene.fake.message(sent.id)
    [attachment] = recorded.attachments
    assert (attachment.filename, attachment.size) == ("clip.mp4", len(data))
    assert attachment.content_type == "video/mp4"
    assert attachment.in_memory
    assert attachment.read() == data
    assert await sent.attachments[0].read() == data


async def test_message_listeners_see_every_new_message_as_it_is_stored(
    scene: Scene, bot: SampleBot
) -> None:
    seen: list[tuple[int, str, bool]] = []
    scene.fake.on_message_created(
        lambda message: seen.append(
            (message.author.id, message.content, scene.fake.message(message.id) is message)
        )
    )
    sent = await text_channel(bot, scene.channel.id).send("from the bot")
    await scene.fake.post_user_message(scene.channel, scene.alice, "from alice")
    await sent.edit(content="edited")
    assert seen == [
        (scene.fake.bot_user.id, "from the bot", True),
        (scene.alice.user.id, "from alice", True),
    ]


async def test_large_upload_spills_to_a_temp_file(
    make_fake: MakeFake, start_bot: StartBot, tmp_path: Path
) -> None:
    fake = await make_fake(attachment_spill_bytes=64 * 1024)
    scene = build_scene(fake)
    bot = await start_bot(fake)
    data = write_file(tmp_path / "big.mp4", 1_000_000)
    sent = await text_channel(bot, scene.channel.id).send(file=discord.File(tmp_path / "big.mp4"))
    [attachment] = fake.message(sent.id).attachments
    assert not attachment.in_memory
    assert attachment.path is not None
    assert attachment.path.stat().st_size == len(data)
    assert attachment.read() == data
    await bot.close()
    await fake.close()
    assert not attachment.path.exists()


async def test_oversize_upload_is_request_entity_too_large(
    make_fake: MakeFake, start_bot: StartBot, tmp_path: Path
) -> None:
    fake = await make_fake(default_upload_limit=256 * 1024)
    scene = build_scene(fake)
    bot = await start_bot(fake)
    write_file(tmp_path / "huge.mp4", 256 * 1024 + 1)
    with pytest.raises(discord.HTTPException) as raised:
        await text_channel(bot, scene.channel.id).send(file=discord.File(tmp_path / "huge.mp4"))
    assert (raised.value.status, raised.value.code) == (413, 40005)
    assert fake.channel_messages(scene.channel) == []


async def test_missing_permissions_are_forbidden(
    make_fake: MakeFake, start_bot: StartBot, tmp_path: Path
) -> None:
    fake = await make_fake()
    scene = build_scene(fake)
    no_files = fake.add_text_channel(
        scene.guild,
        "no-files",
        bot_permissions=permissions.VIEW_CHANNEL | permissions.SEND_MESSAGES,
    )
    read_only = fake.add_text_channel(
        scene.guild, "read-only", bot_permissions=permissions.VIEW_CHANNEL
    )
    hidden = fake.add_text_channel(scene.guild, "hidden", bot_permissions=0)
    bot = await start_bot(fake)
    write_file(tmp_path / "a.mp4", 10)

    with pytest.raises(discord.Forbidden) as raised:
        await text_channel(bot, no_files.id).send(file=discord.File(tmp_path / "a.mp4"))
    assert raised.value.code == 50013
    with pytest.raises(discord.Forbidden) as raised:
        await text_channel(bot, no_files.id).send(embed=discord.Embed(description="x"))
    assert raised.value.code == 50013
    with pytest.raises(discord.Forbidden) as raised:
        await text_channel(bot, read_only.id).send("hello")
    assert raised.value.code == 50013
    with pytest.raises(discord.Forbidden) as raised:
        await bot.get_partial_messageable(hidden.id).send("hello")
    assert raised.value.code == 50001
    assert await text_channel(bot, no_files.id).send("text is fine")
    me = text_channel(bot, no_files.id).guild.me
    assert not text_channel(bot, no_files.id).permissions_for(me).attach_files


async def test_set_bot_permissions_applies_at_once(scene: Scene, bot: SampleBot) -> None:
    scene.fake.set_bot_permissions(scene.channel, discord.Permissions(view_channel=True))
    with pytest.raises(discord.Forbidden):
        await text_channel(bot, scene.channel.id).send("hello")


async def test_nonce_returns_the_earlier_message(scene: Scene, bot: SampleBot) -> None:
    channel = text_channel(bot, scene.channel.id)
    first = await channel.send("Your video is ready", nonce="delivery-42")
    second = await channel.send("Your video is ready", nonce="delivery-42")
    other = await channel.send("Another", nonce="delivery-43")
    assert first.id == second.id
    assert other.id != first.id
    assert len(scene.fake.channel_messages(scene.channel)) == 2


async def test_nonce_is_forgotten_after_the_window(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake(nonce_window=0.05)
    scene = build_scene(fake)
    channel = text_channel(await start_bot(fake), scene.channel.id)
    first = await channel.send("again", nonce="n1")
    await asyncio.sleep(0.06)
    second = await channel.send("again", nonce="n1")
    assert first.id != second.id


async def test_invalid_form_bodies(make_fake: MakeFake, start_bot: StartBot) -> None:
    scene = build_scene(await make_fake(channel_rate_limit=(50, 1.0)))
    bot = await start_bot(scene.fake)
    channel = text_channel(bot, scene.channel.id)
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send("x" * 2001)
    assert (raised.value.status, raised.value.code) == (400, 50035)
    assert "content" in str(raised.value)
    assert scene.fake.errors[-1].errors == {
        "content": {
            "_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
            ]
        }
    }
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send(embed=discord.Embed(description="d" * 4097))
    assert raised.value.code == 50035

    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
    button = {"type": 2, "style": 1, "label": "b"}
    six_buttons = [{**button, "custom_id": f"b{i}"} for i in range(6)]
    with pytest.raises(discord.HTTPException) as raised:
        await bot.http.request(route, json={"components": [{"type": 1, "components": six_buttons}]})
    assert raised.value.code == 50035
    long_id = [{**button, "custom_id": "x" * 101}]
    with pytest.raises(discord.HTTPException) as raised:
        await bot.http.request(route, json={"components": [{"type": 1, "components": long_id}]})
    assert raised.value.code == 50035
    six_rows = [{"type": 1, "components": [{**button, "custom_id": f"r{i}"}]} for i in range(6)]
    with pytest.raises(discord.HTTPException) as raised:
        await bot.http.request(route, json={"components": six_rows})
    assert raised.value.code == 50035
    with pytest.raises(discord.HTTPException) as raised:
        await bot.http.request(route, json={"content": ""})
    assert raised.value.code == 50006
    assert scene.fake.channel_messages(scene.channel) == []


async def test_edit_history_and_moderator_delete(scene: Scene, bot: SampleBot) -> None:
    fake = scene.fake
    sent = await text_channel(bot, scene.channel.id).send("Queued")
    await sent.edit(content="Running")
    recorded = await fake.wait_for_edit(sent.id, lambda m: m.content == "Running")
    assert [v.content for v in recorded.history] == ["Queued", "Running"]
    assert recorded.edited_at is not None

    fake.delete_message(scene.channel, sent.id)
    with pytest.raises(discord.NotFound) as raised:
        await sent.edit(content="Done")
    assert raised.value.code == 10008
    with pytest.raises(discord.NotFound) as raised:
        await sent.delete()
    assert raised.value.code == 10008
    assert fake.channel_messages(scene.channel) == []
    assert fake.channel_messages(scene.channel, include_deleted=True) == [recorded]
    assert recorded.deleted
    assert sent.id in bot.deleted_message_ids


async def test_unknown_channel_and_message(scene: Scene, bot: SampleBot) -> None:
    with pytest.raises(discord.NotFound) as raised:
        await bot.get_partial_messageable(1234567890123456789).send("hello")
    assert raised.value.code == 10003
    with pytest.raises(discord.NotFound) as raised:
        await text_channel(bot, scene.channel.id).get_partial_message(42).edit(content="x")
    assert raised.value.code == 10008


async def test_history_is_newest_first_without_ephemeral(scene: Scene, bot: SampleBot) -> None:
    interaction = await scene.fake.invoke_slash(
        scene.channel, scene.alice, "video", subcommand="status", options={"job": "job-beta"}
    )
    await interaction.wait_ack()
    channel = text_channel(bot, scene.channel.id)
    for text in ("one", "two", "three"):
        await channel.send(text)
    history = [m.content async for m in channel.history(limit=2)]
    assert history == ["three", "two"]
    everything = [m.content async for m in channel.history(limit=10)]
    assert everything == ["three", "two", "one"]


async def test_outage_switch(scene: Scene, bot: SampleBot) -> None:
    channel = text_channel(bot, scene.channel.id)
    scene.fake.set_outage(True)
    with pytest.raises(discord.DiscordServerError) as raised:
        await channel.send("during outage")
    assert raised.value.status == 503
    scene.fake.set_outage(False)
    assert await channel.send("after outage")


async def test_rate_limit_429_is_recovered_and_counted(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake(channel_rate_limit=(2, 0.3))
    scene = build_scene(fake)
    channel = text_channel(await start_bot(fake), scene.channel.id)
    fake.exhaust_rate_limit(scene.channel)
    started = time.monotonic()
    sent = await channel.send("after the 429")
    assert time.monotonic() - started >= 0.2
    assert fake.rate_limited_count == 1
    assert fake.message(sent.id).content == "after the 429"
    [limited] = [e for e in fake.errors if e.status == 429]
    assert limited.code is None


async def test_discord_py_throttles_on_the_headers_without_429(
    make_fake: MakeFake, start_bot: StartBot
) -> None:
    fake = await make_fake(channel_rate_limit=(2, 0.25))
    scene = build_scene(fake)
    channel = text_channel(await start_bot(fake), scene.channel.id)
    started = time.monotonic()
    message = await channel.send("0")
    for n in range(1, 4):
        await message.edit(content=str(n))
    await channel.send("4")
    assert time.monotonic() - started >= 0.45
    assert fake.rate_limited_count == 0


async def test_429_carries_discords_headers(fake_and_channel: tuple[FakeDiscord, int]) -> None:
    fake, channel_id = fake_and_channel
    url = f"{fake.api_base}/channels/{channel_id}/messages"
    headers = {"Authorization": f"Bot {fake.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(url, json={"content": "1"}) as ok:
            assert ok.status == 200
            assert ok.headers["Content-Type"] == "application/json"
            assert ok.headers["X-RateLimit-Remaining"] == "0"
            bucket = ok.headers["X-RateLimit-Bucket"]
        async with http.post(url, json={"content": "2"}) as limited:
            assert limited.status == 429
            body = await limited.json()
            assert body["global"] is False
            assert 0 < body["retry_after"] <= 5
            assert limited.headers["Via"]
            assert limited.headers["Retry-After"] == "5"
            assert limited.headers["X-RateLimit-Scope"] == "user"
            assert limited.headers["X-RateLimit-Bucket"] == bucket


@pytest.fixture
async def fake_and_channel(make_fake: MakeFake) -> tuple[FakeDiscord, int]:
    fake = await make_fake(channel_rate_limit=(1, 5.0))
    return fake, build_scene(fake).channel.id


@pytest.mark.parametrize("content_intent", [False, True])
async def test_user_messages_need_the_message_content_intent(
    scene: Scene, start_bot: StartBot, content_intent: bool
) -> None:
    intents = discord.Intents.default()
    intents.message_content = content_intent
    bot = await start_bot(scene.fake, intents=intents)
    await scene.fake.post_user_message(scene.channel, scene.bob, "hello there")
    mentioning = await scene.fake.post_user_message(
        scene.channel, scene.bob, f"<@{scene.fake.bot_user.id}> status?"
    )
    for _ in range(100):
        if len(bot.seen_messages) == 2:
            break
        await asyncio.sleep(0.01)
    plain, mention = bot.seen_messages
    assert plain.content == ("hello there" if content_intent else "")
    assert mention.content == mentioning.content
    assert plain.author.id == scene.bob.id
