"""The rules through the real client: what discord.py builds at the limits passes (the rules
are not stricter than Discord), and refused bodies reach it as HTTPException 400/50035."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import discord
import pytest
from discord import app_commands

from testkit.waiting import eventually

from .conftest import Scene, StartBot
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


async def test_null_embed_fields_are_left_out_not_echoed(scene: Scene, bot: SampleBot) -> None:
    """Echoed back, ``"color": null`` would crash discord.py's MESSAGE_CREATE parsing."""
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=scene.channel.id
    )
    body = {"embeds": [{"title": "t", "color": None, "url": None}]}
    sent = await bot.http.request(route, json=body)
    assert sent["embeds"] == [{"title": "t"}]
    await eventually(
        lambda: any(m.id == int(sent["id"]) for m in bot.seen_messages),
        within=5.0,
        what="discord.py to parse the message",
    )


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


def view_with(item: discord.ui.Item[Any]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(item)
    return view


SENDS: dict[str, tuple[dict[str, Any], str]] = {
    "link button url over 512": (
        {
            "view": view_with(
                discord.ui.Button(label="Site", url="https://example.com/" + "u" * 500)
            )
        },
        "components.0.components.0.url",
    ),
    "button without label or emoji": (
        {"view": view_with(discord.ui.Button(custom_id="blank"))},
        "components.0.components.0.label",
    ),
    "four stickers": ({"stickers": [discord.Object(id=n) for n in range(1, 5)]}, "sticker_ids"),
    "tts not a boolean": ({"tts": "yes"}, "tts"),
}


@pytest.mark.parametrize("case", sorted(SENDS))
async def test_refused_send_from_discord_py_is_an_http_exception(
    scene: Scene, bot: SampleBot, case: str
) -> None:
    options, path = SENDS[case]
    with pytest.raises(discord.HTTPException) as raised:
        await channel_of(bot, scene).send("hello", **options)
    assert (raised.value.status, raised.value.code) == (400, 50035)
    assert f"In {path}:" in str(raised.value)
    assert scene.fake.channel_messages(scene.channel) == []


class ButtonModalBot(SampleBot):
    """Answers ``/ask`` with a modal that holds a button, which discord.py lets it build."""

    async def setup_hook(self) -> None:
        @self.tree.command(description="Opens a modal with a button")
        async def ask(interaction: discord.Interaction) -> None:
            modal = discord.ui.Modal(title="Tell us")
            modal.add_item(discord.ui.TextInput(label="Answer", custom_id="answer"))
            modal.add_item(discord.ui.Button(label="Go", custom_id="go"))
            try:
                await interaction.response.send_modal(modal)
            except discord.HTTPException as exc:
                self.failures.append(exc)

        await self.tree.sync()


async def test_a_modal_with_a_button_from_discord_py_is_refused(
    scene: Scene, start_bot: StartBot
) -> None:
    bot = await start_bot(scene.fake, cls=ButtonModalBot)
    interaction = await scene.fake.invoke_slash(scene.channel, scene.alice, "ask")
    await eventually(lambda: bool(bot.failures), within=5.0, what="the refused modal")
    [failure] = bot.failures
    assert isinstance(failure, discord.HTTPException)
    assert (failure.status, failure.code) == (400, 50035)
    assert "In data.components.1.type:" in str(failure)
    assert not interaction.acked


def too_long_option() -> app_commands.Command[Any, ..., None]:
    @app_commands.command(description="Takes an essay")
    async def essay(
        interaction: discord.Interaction, text: app_commands.Range[str, 0, 7000]
    ) -> None:
        await interaction.response.send_message(text)

    return essay


def usable_nowhere() -> app_commands.Command[Any, ..., None]:
    @app_commands.command(description="Usable nowhere")
    @app_commands.allowed_contexts(guilds=False, dms=False, private_channels=False)
    async def nowhere(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("here")

    return nowhere


def autocomplete_and_choices() -> app_commands.Command[Any, ..., None]:
    @app_commands.command(description="Both autocomplete and choices")
    @app_commands.choices(kind=[app_commands.Choice(name="Fast", value="fast")])
    async def both(interaction: discord.Interaction, kind: str) -> None:
        await interaction.response.send_message(kind)

    @both.autocomplete("kind")
    async def kinds(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return []

    return both


SYNCS: dict[str, tuple[Callable[[], app_commands.Command[Any, ..., None]], str]] = {
    "max_length over 6000": (too_long_option, "max_length: int value should be less than"),
    "empty contexts": (usable_nowhere, "contexts: Must be between 1 and 3 in length."),
    "autocomplete with choices": (autocomplete_and_choices, "autocomplete: Autocomplete cannot"),
}


@pytest.mark.parametrize("case", sorted(SYNCS))
async def test_refused_command_sync_from_discord_py_keeps_the_old_commands(
    scene: Scene, bot: SampleBot, case: str
) -> None:
    build, error = SYNCS[case]
    bot.tree.add_command(build())
    with pytest.raises(discord.HTTPException) as raised:
        await bot.tree.sync()
    assert (raised.value.status, raised.value.code) == (400, 50035)
    assert error in str(raised.value)
    assert [c["name"] for c in scene.fake.registered_commands()] == ["video"]
