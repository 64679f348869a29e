"""Components V2 through the real client: a LayoutView with a container, text, the video in a
media gallery and buttons is sent every way the bot sends (channel message, interaction
response, follow-up, edit of the original), parsed back by discord.py, its DynamicItem
buttons dispatched from inside containers and sections, and refusals reach discord.py as
HTTPException 400/50035 with Discord's paths."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
from discord import ui

from testkit.discord import FakeMessage
from testkit.waiting import eventually

from .conftest import Scene, StartBot
from .layout_bot import LayoutBot, result_card

VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 256


@pytest.fixture
async def layout_bot(scene: Scene, start_bot: StartBot, tmp_path: Path) -> LayoutBot:
    bot = await start_bot(scene.fake, cls=LayoutBot)
    assert isinstance(bot, LayoutBot)
    bot.render_path = tmp_path / "render.mp4"
    bot.render_path.write_bytes(VIDEO)
    return bot


def assert_card(message: FakeMessage, scene: Scene) -> None:
    assert message.is_v2
    assert message.content == ""
    assert message.embeds == []
    assert f"{scene.alice.mention} your video **#" in message.text
    [item] = message.media_items
    video = message.attachment_for(item)
    assert video is not None
    assert video.read() == VIDEO
    assert len(message.buttons) == 3
    assert scene.fake.mentions_pinged(message) == {scene.alice.id}


@pytest.mark.parametrize("how", ["send", "respond", "followup", "edit"])
async def test_a_result_card_goes_out_every_way_the_bot_sends(
    scene: Scene, layout_bot: LayoutBot, how: str
) -> None:
    fake = scene.fake
    interaction = await fake.invoke_slash(scene.channel, scene.alice, "card", options={"how": how})
    card = await fake.wait_for_message(scene.channel, lambda m: m.is_v2, timeout=5)
    assert not layout_bot.failures
    assert_card(card, scene)
    if how == "send":
        assert card.interaction_id is None
        assert (await interaction.wait_followup()).content == "Card sent."
    else:
        assert interaction.owns(card)
    if how in ("followup", "send"):
        await eventually(lambda: bool(layout_bot.cards), within=5.0, what="discord.py's message")
        [parsed] = layout_bot.cards
        assert parsed.flags.components_v2
        [container] = parsed.components
        assert isinstance(container, discord.Container)
        assert container.accent_colour == discord.Colour.blurple()

    def seen_on_the_gateway() -> bool:
        """MESSAGE_CREATE, or MESSAGE_UPDATE where a deferred reply became the card."""
        created = how in ("send", "respond")
        seen = layout_bot.seen_messages if created else layout_bot.updated
        found = [m for m in seen if m.id == card.id and m.flags.components_v2]
        return bool(found) and isinstance(found[-1].components[0], discord.Container)

    await eventually(seen_on_the_gateway, within=5.0, what="the layout on the gateway")


async def test_an_edit_with_a_new_layout_keeps_the_flag(
    scene: Scene, layout_bot: LayoutBot
) -> None:
    fake = scene.fake
    await fake.invoke_slash(scene.channel, scene.alice, "card", options={"how": "send"})
    await eventually(lambda: bool(layout_bot.cards), within=5.0, what="the card")
    [sent] = layout_bot.cards
    view = ui.LayoutView(timeout=None)
    view.add_item(ui.Container(ui.TextDisplay("Deleted by its owner.")))
    edited = await sent.edit(view=view, attachments=[])
    assert edited.flags.components_v2
    stored = fake.message(sent.id)
    assert (stored.text, stored.attachments, stored.edit_count) == ("Deleted by its owner.", [], 1)


async def test_a_dynamic_item_inside_a_container_and_a_section_is_dispatched(
    scene: Scene, layout_bot: LayoutBot
) -> None:
    fake = scene.fake
    await fake.invoke_slash(scene.channel, scene.alice, "card", options={"how": "respond"})
    card = await fake.wait_for_message(scene.channel, lambda m: m.is_v2, timeout=5)
    in_section, in_row = (b["custom_id"] for b in card.buttons if "vote" in b["custom_id"])
    for custom_id in (in_section, in_row):
        click = await fake.click_button(card, custom_id, scene.bob)
        assert (await click.wait_ack()).type == 4
        assert "counted" in (await click.wait_answer()).content
    entries = [int(c.rsplit(":", 1)[1]) for c in (in_section, in_row)]
    assert [(entry, user) for entry, user, _ in layout_bot.votes] == [
        (entries[0], scene.bob.id),
        (entries[1], scene.bob.id),
    ]


async def test_refused_layouts_reach_discord_py_as_http_exceptions(
    scene: Scene, layout_bot: LayoutBot
) -> None:
    channel = layout_bot.get_channel(scene.channel.id)
    assert isinstance(channel, discord.TextChannel)
    too_long = ui.LayoutView(timeout=None)
    too_long.add_item(ui.TextDisplay("a" * 2001))
    too_long.add_item(ui.Container(ui.TextDisplay("b" * 2000)))
    missing = ui.LayoutView(timeout=None)
    missing.add_item(ui.MediaGallery(discord.MediaGalleryItem("attachment://gone.mp4")))
    for view, path in ((too_long, "components"), (missing, "components.0.items.0.media.url")):
        with pytest.raises(discord.HTTPException) as raised:
            await channel.send(view=view)
        assert (raised.value.status, raised.value.code) == (400, 50035)
        assert f"In {path}:" in str(raised.value)
    assert scene.fake.channel_messages(scene.channel) == []
    card, file = result_card(layout_bot.render_path or Path(), 1, "someone")
    sent = await channel.send(view=card, file=file)
    with pytest.raises(discord.HTTPException) as raised:
        await sent.edit(content="plain words")
    assert "In content:" in str(raised.value)


async def test_a_refused_response_layout_errors_sit_under_data(
    scene: Scene, layout_bot: LayoutBot
) -> None:
    layout_bot.card_text = "x" * 4001
    for how, path in (("respond", "data.components"), ("followup", "components")):
        await scene.fake.invoke_slash(scene.channel, scene.alice, "card", options={"how": how})
        await eventually(lambda: bool(layout_bot.failures), within=5.0, what="the refusal")
        failure = layout_bot.failures.pop()
        assert isinstance(failure, discord.HTTPException)
        assert (failure.status, failure.code) == (400, 50035)
        assert f"In {path}: Text displays must hold 4000" in str(failure)
    assert not [m for m in scene.fake.channel_messages(scene.channel) if m.is_v2]
