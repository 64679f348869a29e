"""Reading a stored Components V2 layout as a person sees it: its text, its media, its
buttons. Pure functions over component dicts, shared by the message records and the store."""

from __future__ import annotations

from typing import Any

from .component_types import BUTTON, MEDIA_GALLERY, TEXT_DISPLAY, THUMBNAIL
from .layout_rules import ATTACHMENT_PREFIX, walk


def attachment_name(media: Any) -> str | None:
    """The filename an unfurled media item names with ``attachment://``, if it does."""
    link = media.get("url") if isinstance(media, dict) else None
    if not isinstance(link, str) or not link.startswith(ATTACHMENT_PREFIX):
        return None
    return link.removeprefix(ATTACHMENT_PREFIX)


def text_displays(components: list[dict[str, Any]]) -> list[str]:
    """The content of every text display, in reading order (depth first)."""
    return [
        c["content"]
        for c in walk(components)
        if c.get("type") == TEXT_DISPLAY and isinstance(c.get("content"), str)
    ]


def media_items(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every media gallery item (``{"media": {...}, "description"?, "spoiler"?}``), in order."""
    found: list[dict[str, Any]] = []
    for component in walk(components):
        items = component.get("items")
        if component.get("type") == MEDIA_GALLERY and isinstance(items, list):
            found += [item for item in items if isinstance(item, dict)]
    return found


def thumbnails(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in walk(components) if c.get("type") == THUMBNAIL]


def buttons(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button, in rows or as a section's accessory, in reading order."""
    return [c for c in walk(components) if c.get("type") == BUTTON]
