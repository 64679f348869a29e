"""Held uploads: a message with files is answered only once the test lets it go."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import discord

from testkit.waiting import eventually

from .conftest import Scene
from .sample_bot import SampleBot


def text_channel(bot: discord.Client, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_a_held_upload_is_answered_once_released_and_text_is_not_held(
    scene: Scene, bot: SampleBot, tmp_path: Path
) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 1000)
    elsewhere = scene.fake.add_text_channel(scene.guild, "elsewhere")
    await eventually(lambda: bot.get_channel(elsewhere.id) is not None, what="the new channel")
    channel = text_channel(bot, scene.channel.id)
    scene.fake.hold_uploads()
    upload = asyncio.create_task(channel.send("video", file=discord.File(tmp_path / "clip.mp4")))
    await eventually(lambda: scene.fake.uploads_held == 1, what="the upload held")
    text = await text_channel(bot, elsewhere.id).send("plain text goes through")
    await asyncio.sleep(0.1)
    assert not upload.done()
    assert scene.fake.channel_messages(scene.channel) == []
    assert [m.id for m in scene.fake.channel_messages(elsewhere)] == [text.id]

    scene.fake.release_uploads()
    sent = await asyncio.wait_for(upload, 5)
    assert scene.fake.message(sent.id).attachments
    assert scene.fake.uploads_held == 0


async def test_an_upload_its_client_gave_up_on_is_still_posted_and_a_repeat_finds_it(
    scene: Scene, bot: SampleBot, tmp_path: Path
) -> None:
    """As on Discord: an upload that arrived whole is posted even if the client stopped
    waiting; the repeat with the same nonce gets the same message back."""
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 1000)
    channel = text_channel(bot, scene.channel.id)
    scene.fake.hold_uploads()
    upload = asyncio.create_task(
        channel.send("video", file=discord.File(tmp_path / "clip.mp4"), nonce="job-7")
    )
    await eventually(lambda: scene.fake.uploads_held == 1, what="the upload held")
    upload.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await upload
    scene.fake.release_uploads()
    await eventually(
        lambda: len(scene.fake.channel_messages(scene.channel)) == 1, what="the upload posted"
    )
    repeat = await channel.send("video", file=discord.File(tmp_path / "clip.mp4"), nonce="job-7")
    [posted] = scene.fake.channel_messages(scene.channel)
    assert repeat.id == posted.id
