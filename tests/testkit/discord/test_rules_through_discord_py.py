"""The rules through the real client: what discord.py builds at the limits passes (the rules
are not stricter than Discord), and refused bodies reach it as HTTPException 400/50035."""

from __future__ import annotations

import datetime

import discord
import pytest

from .conftest import Scene
from .sample_bot import SampleBot


def channel_of(bot: SampleBot, scene: Scene) -> discord.TextChannel:
    channel = bot.get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_discord_py_embeds_and_views_at_the_limits_pass(scene: Scene, bot: SampleBot) -> None:
    embed = discord.Embed(
        title="t" * 256,
        url="https://example.com/job/1",
        colour=discord.Colour(0xFFFFFF),
        timestamp=datetime.datetime.now(datetime.UTC),
    )
    embed.set_image(url="attachment://frame.png")
    embed.set_thumbnail(url="https://cdn.example.com/t.png")
    embed.set_footer(text="f" * 100)
    embed.set_author(name="a" * 256, url="https://example.com")
    for i in range(25):
        embed.add_field(name=f"n{i}", value="v")
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Select(
            custom_id="pick",
            placeholder="p" * 150,
            min_values=0,
            max_values=25,
            options=[discord.SelectOption(label=str(i), description="d" * 100) for i in range(25)],
        )
    )
    view.add_item(discord.ui.Button(label="Docs", url="https://example.com", row=1))
    view.add_item(discord.ui.Button(label="l" * 80, custom_id="go", row=1))
    sent = await channel_of(bot, scene).send(embed=embed, view=view)
    assert sent.embeds[0].timestamp == embed.timestamp
    assert len(scene.fake.message(sent.id).components) == 2


async def test_refused_embed_is_an_http_exception(scene: Scene, bot: SampleBot) -> None:
    channel = channel_of(bot, scene)
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send(embed=discord.Embed(title="t", url="ftp://example.com"))
    assert (raised.value.status, raised.value.code) == (400, 50035)
    assert "embeds.0.url" in str(raised.value)


async def test_bad_timestamp_is_refused_not_echoed(scene: Scene, bot: SampleBot) -> None:
    """Echoed back, an unparsable timestamp would crash discord.py's Message parsing."""
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=scene.channel.id
    )
    body = {"embeds": [{"title": "t", "timestamp": "next tuesday"}]}
    with pytest.raises(discord.HTTPException) as raised:
        await bot.http.request(route, json=body)
    assert raised.value.code == 50035
    assert scene.fake.channel_messages(scene.channel) == []


async def test_duplicate_select_values_from_discord_py_are_refused(
    scene: Scene, bot: SampleBot
) -> None:
    view = discord.ui.View(timeout=None)
    options = [
        discord.SelectOption(label="A", value="a"),
        discord.SelectOption(label="B", value="a"),
    ]
    view.add_item(discord.ui.Select(custom_id="pick", options=options))
    with pytest.raises(discord.HTTPException) as raised:
        await channel_of(bot, scene).send("pick one", view=view)
    assert raised.value.code == 50035
    assert "components.0.components.0.options.1" in str(raised.value)
