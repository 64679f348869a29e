"""How Discord stores a message's components: as sent, every component numbered (``id``),
and the fields Discord fills in itself: media naming an attachment of the message
(``attachment://<filename>``) gets that attachment's ``attachment_id`` and ``content_type``,
and a File component the file's ``name`` and ``size`` (Discord's component reference:
"This field is ignored and provided by the API as part of the response")."""

from __future__ import annotations

from typing import Any

from .component_types import FILE, MEDIA_GALLERY, THUMBNAIL
from .layout_reading import attachment_name
from .layout_rules import walk
from .records import FakeAttachment

MEDIA_FILLED = ("attachment_id", "content_type")


def stored_components(
    components: list[dict[str, Any]], attachments: list[FakeAttachment]
) -> list[dict[str, Any]]:
    """Copies of ``components`` as the message keeps them. Ids given (other than 0, which
    Discord treats as empty) are kept and never reused for the ones it numbers."""
    taken = {c["id"] for c in walk(components) if _given_id(c.get("id"))}
    free = (i for i in range(1, 100_000) if i not in taken)
    by_name = {a.filename: a for a in attachments}

    def store(component: dict[str, Any]) -> dict[str, Any]:
        kept = dict(component)
        if not _given_id(kept.get("id")):
            kept["id"] = next(free)
        if isinstance(kept.get("components"), list):
            kept["components"] = [
                store(c) if isinstance(c, dict) else c for c in kept["components"]
            ]
        for key in ("accessory", "component"):
            if isinstance(kept.get(key), dict):
                kept[key] = store(kept[key])
        _fill_media(kept, by_name)
        return kept

    return [store(c) for c in components]


def _given_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value != 0


def _fill_media(component: dict[str, Any], by_name: dict[str, FakeAttachment]) -> None:
    kind = component.get("type")
    if kind == MEDIA_GALLERY and isinstance(component.get("items"), list):
        component["items"] = [
            {**item, "media": _media(item.get("media"), by_name)}
            if isinstance(item, dict)
            else item
            for item in component["items"]
        ]
    elif kind == THUMBNAIL:
        component["media"] = _media(component.get("media"), by_name)
    elif kind == FILE:
        component["file"] = _media(component.get("file"), by_name)
        attachment = resolve(component["file"], by_name)
        if attachment is not None:
            component["name"] = attachment.filename
            component["size"] = attachment.size


def _media(media: Any, by_name: dict[str, FakeAttachment]) -> Any:
    if not isinstance(media, dict):
        return media
    filled = {k: v for k, v in media.items() if k not in MEDIA_FILLED}
    attachment = resolve(media, by_name)
    if attachment is not None:
        filled["attachment_id"] = str(attachment.id)
        filled["content_type"] = attachment.content_type
    return filled


def resolve(media: Any, by_name: dict[str, FakeAttachment]) -> FakeAttachment | None:
    name = attachment_name(media)
    return None if name is None else by_name.get(name)
