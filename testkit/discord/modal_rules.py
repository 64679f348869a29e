"""Discord's rules for a modal (callback type 9): title, 1-5 rows or labels, only the
components a modal can hold (no buttons), text inputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .component_rules import CUSTOM_ID_MAX, ROWS_MAX, check_component
from .component_types import (
    ACTION_ROW,
    CHECKBOX,
    CHECKBOX_GROUP,
    FILE_UPLOAD,
    LABEL,
    RADIO_GROUP,
    SELECT_TYPES,
    TEXT_DISPLAY,
    TEXT_INPUT,
)
from .errors import FormErrors
from .form_checks import Path, as_dict, count, dicts, integer, text, type_choices
from .layout_rules import kind_of

TITLE_MAX = 45
LABEL_MAX = 45
LABEL_DESCRIPTION_MAX = 100
PLACEHOLDER_MAX = 100
INPUT_LENGTH_MAX = 4000
INPUTS_MAX = 5
TEXT_INPUT_STYLES = (1, 2)
MODAL_TYPES = frozenset(
    {ACTION_ROW, TEXT_INPUT, LABEL, TEXT_DISPLAY, FILE_UPLOAD, *SELECT_TYPES}
    | {RADIO_GROUP, CHECKBOX_GROUP, CHECKBOX}
)
"""Components Discord shows in a modal; buttons and the message-only layouts are not."""


def validate_modal(data: dict[str, Any]) -> None:
    form = FormErrors()
    base: Path = ["data"]
    text(form, data, "title", base, min_len=1, max_len=TITLE_MAX, required=True)
    text(form, data, "custom_id", base, min_len=1, max_len=CUSTOM_ID_MAX, required=True)
    components = dicts(form, data.get("components"), [*base, "components"])
    count(form, components, [*base, "components"], low=1, high=ROWS_MAX)
    seen: set[str] = set()
    inputs = 0
    for index, component in components:
        path = [*base, "components", index]
        check_component(form, component, path, seen)
        _check_modal_types(form, component, path)
        for input_path, text_input in _text_inputs(form, component, path):
            inputs += 1
            _check_text_input(form, text_input, input_path)
    if inputs > INPUTS_MAX:
        form.max_length([*base, "components"], INPUTS_MAX)
    form.raise_if_any()


def _check_modal_types(form: FormErrors, component: dict[str, Any], path: Path) -> None:
    """Every component in the modal, nested ones included, is one a modal can hold."""
    kind = kind_of(component)
    if kind is not None and kind not in MODAL_TYPES:
        type_choices(form, path, MODAL_TYPES)
    children = component.get("components")
    for index, child in enumerate(children if isinstance(children, list) else []):
        if isinstance(child, dict):
            _check_modal_types(form, child, [*path, "components", index])
    if isinstance(component.get("component"), dict):
        _check_modal_types(form, component["component"], [*path, "component"])


def _text_inputs(
    form: FormErrors, component: dict[str, Any], path: Path
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Text inputs under a row or label, with their paths; labels are checked on the way."""
    if component.get("type") == TEXT_INPUT:
        yield path, component
    if component.get("type") == LABEL:
        text(form, component, "label", path, min_len=1, max_len=LABEL_MAX, required=True)
        text(form, component, "description", path, max_len=LABEL_DESCRIPTION_MAX)
    for index, child in dicts(form, component.get("components"), [*path, "components"]):
        yield from _text_inputs(form, child, [*path, "components", index])
    if "component" in component:
        child = as_dict(form, component["component"], [*path, "component"])
        yield from _text_inputs(form, child, [*path, "component"])


def _check_text_input(form: FormErrors, text_input: dict[str, Any], path: Path) -> None:
    """Lengths within 0-4,000 with min <= max, and a default value that fits them."""
    text(form, text_input, "custom_id", path, min_len=1, max_len=CUSTOM_ID_MAX, required=True)
    style = text_input.get("style")
    if style is not None and style not in TEXT_INPUT_STYLES:
        choices = f"Value must be one of {TEXT_INPUT_STYLES}."
        form.add([*path, "style"], "BASE_TYPE_CHOICES", choices)
    text(form, text_input, "label", path, max_len=LABEL_MAX)
    text(form, text_input, "placeholder", path, max_len=PLACEHOLDER_MAX)
    low = integer(form, text_input, "min_length", path, low=0, high=INPUT_LENGTH_MAX)
    high = integer(form, text_input, "max_length", path, low=1, high=INPUT_LENGTH_MAX)
    if low is not None and high is not None and low > high:
        form.add(
            [*path, "min_length"],
            "TEXT_INPUT_MIN_LENGTH_EXCEEDS_MAX",
            "min_length must be less than or equal to max_length",
        )
    value = text(form, text_input, "value", path, max_len=INPUT_LENGTH_MAX)
    if value is not None and high is not None and len(value) > high:
        form.max_length([*path, "value"], high)
