"""Discord's rules for Components V2 messages (flag IS_COMPONENTS_V2, 1 << 15).

From Discord's component reference (developers/components/reference): which component may
stand where (top level, in a container, in a section, in an action row), what each layout
and content component holds, the totals (40 components, nested ones counted; 4,000
characters across all text displays, the limit discord.py's ``LayoutView.content_length``
documents), and media that must name an attachment of the same message (a File component
takes only ``attachment://<filename>``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from .component_types import (
    ACTION_ROW,
    BUTTON,
    CONTAINER,
    FILE,
    MEDIA_GALLERY,
    SECTION,
    SELECT_TYPES,
    SEPARATOR,
    TEXT_DISPLAY,
    THUMBNAIL,
)
from .errors import FormErrors
from .form_checks import Path, as_dict, boolean, count, dicts, integer, required, text, url
from .form_checks import type_choices as type_not_here

V2_COMPONENTS_MAX = 40
V2_TEXT_MAX = 4000
GALLERY_ITEMS_MAX = 10
SECTION_TEXTS_MAX = 3
MEDIA_DESCRIPTION_MAX = 1024
ACCENT_COLOR_MAX = 0xFFFFFF
MEDIA_SCHEMES = ("http", "https", "attachment")
ATTACHMENT_PREFIX = "attachment://"

LEGACY_TOP_LEVEL = frozenset({ACTION_ROW})
"""Without the flag a message holds action rows only (at most five)."""
V2_TOP_LEVEL = frozenset(
    {ACTION_ROW, SECTION, TEXT_DISPLAY, MEDIA_GALLERY, FILE, SEPARATOR, CONTAINER}
)
CONTAINER_CHILDREN = frozenset({ACTION_ROW, TEXT_DISPLAY, SECTION, MEDIA_GALLERY, SEPARATOR, FILE})
SECTION_CHILDREN = frozenset({TEXT_DISPLAY})
SECTION_ACCESSORIES = frozenset({BUTTON, THUMBNAIL})
ROW_CHILDREN = frozenset({BUTTON, *SELECT_TYPES})
"""In a message an action row holds buttons or one select; text inputs live in modals."""
CHILDREN_HERE = {ACTION_ROW: ROW_CHILDREN, CONTAINER: CONTAINER_CHILDREN, SECTION: SECTION_CHILDREN}


def kind_of(component: dict[str, Any]) -> int | None:
    """The component's ``type`` when it is an integer; a wrong one is reported elsewhere."""
    kind = component.get("type")
    return kind if isinstance(kind, int) and not isinstance(kind, bool) else None


def place(
    form: FormErrors, component: dict[str, Any], path: Path, allowed: Collection[int]
) -> None:
    """The component's type may stand here, and so may each child where it stands; an
    unknown type is refused the same way."""
    kind = kind_of(component)
    if kind is not None and kind not in allowed:
        type_not_here(form, path, allowed)
        return
    children = component.get("components")
    if kind in CHILDREN_HERE and isinstance(children, list):
        for index, child in enumerate(children):
            if isinstance(child, dict):
                place(form, child, [*path, "components", index], CHILDREN_HERE[kind])
    if kind == SECTION and isinstance(component.get("accessory"), dict):
        place(form, component["accessory"], [*path, "accessory"], SECTION_ACCESSORIES)


def check_totals(form: FormErrors, components: Sequence[dict[str, Any]]) -> None:
    """At most 40 components counting nested ones, and 4,000 characters of text in all."""
    every = list(walk(components))
    if len(every) > V2_COMPONENTS_MAX:
        form.max_length(["components"], V2_COMPONENTS_MAX)
    characters = sum(
        len(c["content"])
        for c in every
        if kind_of(c) == TEXT_DISPLAY and isinstance(c.get("content"), str)
    )
    if characters > V2_TEXT_MAX:
        form.add(
            ["components"],
            "COMPONENTS_TEXT_LENGTH_EXCEEDED",
            f"Text displays must hold {V2_TEXT_MAX} or fewer characters in all.",
        )


def check_attachment_references(
    form: FormErrors, components: Sequence[dict[str, Any]], filenames: Collection[str]
) -> None:
    """Every ``attachment://<filename>`` names an attachment the message will have."""
    for path, component in walk_with_paths(components, ["components"]):
        kind = kind_of(component)
        if kind == MEDIA_GALLERY:
            items = component.get("items")
            for index, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, dict):
                    _reference(form, item.get("media"), [*path, "items", index, "media"], filenames)
        elif kind == THUMBNAIL:
            _reference(form, component.get("media"), [*path, "media"], filenames)
        elif kind == FILE:
            _reference(form, component.get("file"), [*path, "file"], filenames)


def _reference(form: FormErrors, media: Any, path: Path, filenames: Collection[str]) -> None:
    link = media.get("url") if isinstance(media, dict) else None
    if not isinstance(link, str) or not link.startswith(ATTACHMENT_PREFIX):
        return
    name = link.removeprefix(ATTACHMENT_PREFIX)
    if name not in filenames:
        form.add(
            [*path, "url"],
            "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND",
            f"The message has no attachment named {name!r}.",
        )


def _check_text_display(form: FormErrors, component: dict[str, Any], path: Path) -> None:
    text(form, component, "content", path, max_len=V2_TEXT_MAX, required=True)


def _check_section(form: FormErrors, component: dict[str, Any], path: Path) -> None:
    """One to three text displays beside one accessory (a button or a thumbnail)."""
    children = component.get("components")
    if children is None:
        required(form, [*path, "components"])
    elif isinstance(children, list):
        count(form, children, [*path, "components"], low=1, high=SECTION_TEXTS_MAX)
    if component.get("accessory") is None:
        required(form, [*path, "accessory"])


def _check_thumbnail(form: FormErrors, component: dict[str, Any], path: Path) -> None:
    _media(form, component, "media", path)
    text(form, component, "description", path, max_len=MEDIA_DESCRIPTION_MAX)
    boolean(form, component, "spoiler", path)


def _check_media_gallery(form: FormErrors, component: dict[str, Any], path: Path) -> None:
    """One to ten items, each a media URL with an optional description and spoiler."""
    here = [*path, "items"]
    if component.get("items") is None:
        required(form, here)
    items = dicts(form, component.get("items"), here)
    count(form, items, here, low=1, high=GALLERY_ITEMS_MAX)
    for index, item in items:
        _media(form, item, "media", [*here, index])
        text(form, item, "description", [*here, index], max_len=MEDIA_DESCRIPTION_MAX)
        boolean(form, item, "spoiler", [*here, index])


def _check_file(form: FormErrors, component: dict[str, Any], path: Path) -> None:
    """A File shows one uploaded file: its URL must be ``attachment://<filename>``."""
    link = _media(form, component, "file", path)
    if link is not None and not link.startswith(ATTACHMENT_PREFIX):
        form.add(
            [*path, "file", "url"],
            "FILE_COMPONENT_ATTACHMENT_ONLY",
            "A file component only supports attachment://<filename> URLs.",
        )
    boolean(form, component, "spoiler", path)


def _check_separator(form: FormErrors, component: dict[str, Any], path: Path) -> None:
    boolean(form, component, "divider", path)
    integer(form, component, "spacing", path, low=1, high=2)


def _check_container(form: FormErrors, component: dict[str, Any], path: Path) -> None:
    if component.get("components") is None:
        required(form, [*path, "components"])
    integer(form, component, "accent_color", path, low=0, high=ACCENT_COLOR_MAX)
    boolean(form, component, "spoiler", path)


def _media(form: FormErrors, obj: dict[str, Any], key: str, path: Path) -> str | None:
    """An unfurled media item: only its ``url`` is the sender's, http(s) or
    ``attachment://<filename>``. ``None`` when missing or invalid."""
    if obj.get(key) is None:
        required(form, [*path, key])
        return None
    media = as_dict(form, obj[key], [*path, key])
    link = url(form, media, "url", [*path, key], MEDIA_SCHEMES, required=True)
    if link == ATTACHMENT_PREFIX:
        form.add([*path, key, "url"], "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        return None
    return link


LAYOUT_CHECKS: dict[int, Callable[[FormErrors, dict[str, Any], Path], None]] = {
    TEXT_DISPLAY: _check_text_display,
    SECTION: _check_section,
    THUMBNAIL: _check_thumbnail,
    MEDIA_GALLERY: _check_media_gallery,
    FILE: _check_file,
    SEPARATOR: _check_separator,
    CONTAINER: _check_container,
}


def walk(components: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """Every component, depth first, through ``components``, ``accessory`` and ``component``."""
    for _, component in walk_with_paths(components, []):
        yield component


def walk_with_paths(components: Sequence[Any], base: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every component with its path, depth first (media gallery items are not components)."""
    for index, component in enumerate(components):
        if isinstance(component, dict):
            yield from _visit(component, [*base, index])


def _visit(component: dict[str, Any], path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    yield path, component
    children = component.get("components")
    if isinstance(children, list):
        yield from walk_with_paths(children, [*path, "components"])
    for key in ("accessory", "component"):
        child = component.get(key)
        if isinstance(child, dict):
            yield from _visit(child, [*path, key])
