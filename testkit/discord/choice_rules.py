"""Discord's rules for autocomplete results (callback type 8): ``data`` with its choices,
their count, names and values of the focused option's type."""

from __future__ import annotations

from typing import Any

from .errors import FormErrors
from .form_checks import dicts, required, text
from .option_values import INTEGER, NUMBER, STRING, check_number

CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100


def validate_choices(data: dict[str, Any] | None, option_type: int | None) -> list[dict[str, Any]]:
    """``data.choices`` given: at most 25, names of 1-100 chars, values of the focused
    option's type (integers and numbers within ±2^53)."""
    form = FormErrors()
    if data is None:
        required(form, ["data"])
        form.raise_if_any()
        return []
    if data.get("choices") is None:
        required(form, ["data", "choices"])
    choices = dicts(form, data.get("choices"), ["data", "choices"])
    if len(choices) > CHOICES_MAX:
        form.max_length(["data", "choices"], CHOICES_MAX)
    for index, choice in choices:
        path: list[str | int] = ["data", "choices", index]
        text(form, choice, "name", path, min_len=1, max_len=CHOICE_TEXT_MAX, required=True)
        _check_value(form, choice.get("value"), [*path, "value"], option_type)
    form.raise_if_any()
    return [choice for _, choice in choices]


def _check_value(form: FormErrors, value: Any, path: list[str | int], kind: int | None) -> None:
    if value is None:
        form.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif kind in (INTEGER, NUMBER):
        check_number(form, value, path, kind)
    elif not isinstance(value, str if kind == STRING else str | int | float):
        form.add(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.")
    elif isinstance(value, str) and len(value) > CHOICE_TEXT_MAX:
        form.max_length(path, CHOICE_TEXT_MAX)


def focused_option_type(payload: dict[str, Any]) -> int | None:
    """The type of the option the user is typing in, from INTERACTION_CREATE's ``data``."""
    stack = list((payload.get("data") or {}).get("options") or [])
    while stack:
        option = stack.pop()
        if option.get("focused"):
            kind = option.get("type")
            return kind if isinstance(kind, int) else None
        stack += option.get("options") or []
    return None
