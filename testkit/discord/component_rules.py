"""Discord's rules for message components: where each may stand, action rows, buttons,
select menus, custom ids; the Components V2 layouts have theirs in ``layout_rules``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from .component_types import ACTION_ROW, BUTTON, SELECT_TYPES, STRING_SELECT, TEXT_INPUT
from .errors import FormErrors
from .form_checks import Path, as_dict, count, dicts, integer, required, text
from .layout_rules import (
    LAYOUT_CHECKS,
    LEGACY_TOP_LEVEL,
    V2_TOP_LEVEL,
    check_attachment_references,
    check_totals,
    kind_of,
    place,
)

BUTTON_STYLES = (1, 2, 3, 4, 5, 6)
LINK_STYLE, PREMIUM_STYLE = 5, 6
ROW_WIDTH = 5
ROWS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
BUTTON_URL_MAX = 512
SELECT_OPTIONS_MAX = 25
SELECT_VALUES_MAX = 25
PLACEHOLDER_MAX = 150
OPTION_TEXT_MAX = 100


def check_components(
    form: FormErrors, value: Any, *, v2: bool, filenames: Collection[str] = ()
) -> None:
    """A message's ``components``: at most five action rows, or with the Components V2 flag
    any layout at the top level within V2's totals, each media ``attachment://`` naming one
    of ``filenames``; every component where it may stand; custom ids unique across the
    whole message."""
    components = dicts(form, value, ["components"])
    if v2:
        check_totals(form, [c for _, c in components])
    elif len(components) > ROWS_MAX:
        form.max_length(["components"], ROWS_MAX)
    seen: set[str] = set()
    for index, component in components:
        path: Path = ["components", index]
        place(form, component, path, V2_TOP_LEVEL if v2 else LEGACY_TOP_LEVEL)
        check_component(form, component, path, seen)
    if v2:
        check_attachment_references(form, [c for _, c in components], filenames)


def check_component(
    form: FormErrors, component: dict[str, Any], path: Path, seen: set[str]
) -> None:
    """One component and its children, by type."""
    if "type" not in component:
        required(form, [*path, "type"])
    kind = integer(form, component, "type", path)
    if kind == ACTION_ROW:
        _check_row(form, component, path)
    elif kind == BUTTON:
        _check_button(form, component, path)
    elif kind in SELECT_TYPES:
        _check_select(form, component, path)
    elif kind in LAYOUT_CHECKS:
        LAYOUT_CHECKS[kind](form, component, path)
    _check_custom_id(form, component, path, seen, required_here=kind in SELECT_TYPES)
    for index, child in dicts(form, component.get("components"), [*path, "components"]):
        check_component(form, child, [*path, "components", index], seen)
    for key in ("accessory", "component"):
        if key in component:
            child = as_dict(form, component[key], [*path, key])
            check_component(form, child, [*path, key], seen)


def _check_row(form: FormErrors, row: dict[str, Any], path: Path) -> None:
    """1-5 children; a select menu (or text input) fills the whole row's width."""
    children = [c for _, c in dicts(form, row.get("components"), [*path, "components"])]
    count(form, children, [*path, "components"], low=1, high=ROW_WIDTH)
    wide = [c for c in children if kind_of(c) in SELECT_TYPES | {TEXT_INPUT}]
    if wide and len(children) > 1:
        form.add(
            [*path, "components"],
            "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
            "The specified component exceeds the maximum width",
        )


def _check_button(form: FormErrors, button: dict[str, Any], path: Path) -> None:
    """Style required and known; link buttons need ``url`` (at most 512 characters) and no
    ``custom_id``, premium buttons a ``sku_id``, the rest a ``custom_id`` and no ``url``;
    every button but a premium one shows a label, an emoji or both."""
    style = button.get("style")
    if style is None:
        required(form, [*path, "style"])
        return
    if style not in BUTTON_STYLES:
        form.add(
            [*path, "style"],
            "BASE_TYPE_CHOICES",
            f"Value must be one of {BUTTON_STYLES}.",
        )
        return
    label = text(form, button, "label", path, max_len=BUTTON_LABEL_MAX)
    if style != PREMIUM_STYLE and not label and button.get("emoji") is None:
        form.add(
            [*path, "label"],
            "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
            "A label or an emoji is required",
        )
    if style == LINK_STYLE:
        text(form, button, "url", path, max_len=BUTTON_URL_MAX)
        if not button.get("url"):
            form.add([*path, "url"], "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
        if button.get("custom_id") is not None:
            form.add(
                [*path, "custom_id"],
                "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                "A custom id cannot be set on a link button",
            )
    elif style == PREMIUM_STYLE:
        if not button.get("sku_id"):
            required(form, [*path, "sku_id"])
    else:
        if not button.get("custom_id"):
            form.add(
                [*path, "custom_id"],
                "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
                "A custom id is required",
            )
        if button.get("url") is not None:
            form.add(
                [*path, "url"],
                "BUTTON_COMPONENT_URL_NOT_ALLOWED",
                "A url cannot be set on a non-link button",
            )


def _check_select(form: FormErrors, select: dict[str, Any], path: Path) -> None:
    """Placeholder, value counts (0 <= min <= max <= options, max 25) and, for string
    selects, 1-25 options with unique values."""
    text(form, select, "placeholder", path, max_len=PLACEHOLDER_MAX)
    low = integer(form, select, "min_values", path, low=0, high=SELECT_VALUES_MAX)
    high = integer(form, select, "max_values", path, low=1, high=SELECT_VALUES_MAX)
    if kind_of(select) == STRING_SELECT:
        options = _check_options(form, select.get("options"), [*path, "options"])
        if high is not None and options and high > options:
            form.add(
                [*path, "max_values"],
                "SELECT_COMPONENT_MAX_VALUES_EXCEEDS_OPTIONS",
                f"max_values must be less than or equal to the number of options ({options})",
            )
        if low is not None and options and low > options:
            form.add(
                [*path, "min_values"],
                "SELECT_COMPONENT_MIN_VALUES_EXCEEDS_OPTIONS",
                f"min_values must be less than or equal to the number of options ({options})",
            )
    if low is not None and high is not None and low > high:
        form.add(
            [*path, "min_values"],
            "SELECT_COMPONENT_MIN_VALUES_EXCEEDS_MAX",
            "min_values must be less than or equal to max_values",
        )


def _check_options(form: FormErrors, value: Any, path: Path) -> int:
    """A string select's options; returns how many there are."""
    options = dicts(form, value, path)
    count(form, options, path, low=1, high=SELECT_OPTIONS_MAX)
    values: set[str] = set()
    for index, option in options:
        here = [*path, index]
        for key in ("label", "value"):
            text(form, option, key, here, min_len=1, max_len=OPTION_TEXT_MAX, required=True)
        text(form, option, "description", here, max_len=OPTION_TEXT_MAX)
        option_value = option.get("value")
        if isinstance(option_value, str) and option_value in values:
            form.add(
                here,
                "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                "The specified option value is already used",
            )
        values.add(str(option_value))
    return len(options)


def _check_custom_id(
    form: FormErrors, component: dict[str, Any], path: Path, seen: set[str], *, required_here: bool
) -> None:
    custom_id = text(
        form, component, "custom_id", path, max_len=CUSTOM_ID_MAX, required=required_here
    )
    if custom_id is None:
        return
    if custom_id in seen:
        form.add(
            [*path, "custom_id"],
            "COMPONENT_CUSTOM_ID_DUPLICATED",
            "Component custom id cannot be duplicated",
        )
    seen.add(custom_id)
