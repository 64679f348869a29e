"""Discord's rules for autocomplete results (callback type 8): count, names, typed values."""

from __future__ import annotations

from typing import Any

from .errors import FormErrors
from .form_checks import dicts, text

CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100
STRING, INTEGER, NUMBER = 3, 4, 10


def validate_choices(data: dict[str, Any], option_type: int | None) -> list[dict[str, Any]]:
    """At most 25 choices, names of 1-100 chars, values of the focused option's type."""
    form = FormErrors()
    choices = dicts(form, data.get("choices"), ["data", "choices"])
    if len(choices) > CHOICES_MAX:
        form.max_length(["data", "choices"], CHOICES_MAX)
    for index, choice in choices:
        path = ["data", "choices", index]
        text(form, choice, "name", path, min_len=1, max_len=CHOICE_TEXT_MAX, required=True)
        _check_value(form, choice.get("value"), [*path, "value"], option_type)
    form.raise_if_any()
    return [choice for _, choice in choices]


def _check_value(form: FormErrors, value: Any, path: list[str | int], kind: int | None) -> None:
    if value is None:
        form.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif kind == INTEGER and (isinstance(value, bool) or not isinstance(value, int)):
        form.add(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
    elif kind == NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        form.add(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not a valid number.')
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
            return option.get("type")
        stack += option.get("options") or []
    return None
