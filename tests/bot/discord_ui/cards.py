"""Reading a built result card as Discord would: its text, its media, its buttons, and
whether Discord takes it (the fake Discord's Components V2 rules, applied to the card's
own JSON)."""

from __future__ import annotations

from typing import Any

from discord import ui

from testkit.discord.component_rules import check_components
from testkit.discord.errors import FormErrors
from testkit.discord.layout_reading import buttons, media_items, text_displays
from testkit.discord.layout_rules import V2_COMPONENTS_MAX, V2_TEXT_MAX, walk


def components(view: ui.LayoutView) -> list[dict[str, Any]]:
    return view.to_components()


def text_of(view: ui.LayoutView) -> str:
    """Every text display, joined by newlines (as `FakeMessage.text` reads a message)."""
    return "\n".join(text_displays(components(view)))


def media_of(view: ui.LayoutView) -> list[str]:
    return [item["media"]["url"] for item in media_items(components(view))]


def custom_ids_of(view: ui.LayoutView) -> list[str]:
    return [button["custom_id"] for button in buttons(components(view))]


def labels_of(view: ui.LayoutView) -> list[str]:
    return [button["label"] for button in buttons(components(view))]


def assert_discord_takes(view: ui.LayoutView, filenames: tuple[str, ...] = ()) -> None:
    """What Discord would refuse in a Components V2 message with these attachments: 40
    components, 4,000 characters of text, where each component may stand, buttons,
    custom ids, media naming attachments. discord.py's own counts agree."""
    built = components(view)
    form = FormErrors()
    check_components(form, built, v2=True, filenames=filenames)
    assert not form.tree, form.tree
    assert len(list(walk(built))) <= V2_COMPONENTS_MAX
    assert view.total_children_count <= V2_COMPONENTS_MAX
    assert view.content_length() <= V2_TEXT_MAX
    assert view.has_components_v2()
