"""Typed reads of a request body that record Discord's 50035 errors instead of raising.

Every rule module reads fields through these, so a wrong type becomes a 400 with the field's
path (as Discord answers) rather than a crash in the fake (a 500)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from urllib.parse import urlsplit

from .errors import FormErrors

Path = Sequence[str | int]
SNOWFLAKE_LIMIT = 2**64
URL_MAX = 2048


def as_dict(form: FormErrors, value: Any, path: Path) -> dict[str, Any]:
    """``value`` when it is an object (``None`` counts as empty), else a DICT_TYPE_CONVERT."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    form.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    return {}


def as_list(form: FormErrors, value: Any, path: Path) -> list[Any]:
    """``value`` when it is an array (``None`` counts as empty), else a LIST_TYPE_CONVERT."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    form.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
    return []


def dicts(form: FormErrors, value: Any, path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The array's objects with their indexes; ``null`` items and non-objects are reported
    and skipped."""
    found: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(as_list(form, value, path)):
        if isinstance(item, dict):
            found.append((index, item))
        elif item is None:
            form.add(
                [*path, index],
                "LIST_ITEM_VALUE_REQUIRED",
                "List item values of ModelType are required",
            )
        else:
            as_dict(form, item, [*path, index])
    return found


def text(
    form: FormErrors,
    obj: dict[str, Any],
    key: str,
    path: Path,
    *,
    max_len: int,
    min_len: int = 0,
    required: bool = False,
) -> str | None:
    """A string field: required, type and length checked; ``None`` when absent or invalid."""
    value = obj.get(key)
    here = [*path, key]
    if value is None:
        if required:
            form.add(here, "BASE_TYPE_REQUIRED", "This field is required")
        return None
    if not isinstance(value, str):
        form.add(here, "STRING_TYPE_CONVERT", "Could not interpret value as string.")
        return None
    if min_len and not min_len <= len(value) <= max_len:
        bounds = f"{min_len} and {max_len}"
        form.add(here, "BASE_TYPE_BAD_LENGTH", f"Must be between {bounds} in length.")
        return None
    if len(value) > max_len:
        form.max_length(here, max_len)
        return None
    return value


def integer(
    form: FormErrors,
    obj: dict[str, Any],
    key: str,
    path: Path,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int | None:
    """An integer field within ``low``..``high``; ``None`` when absent or invalid."""
    value = obj.get(key)
    here = [*path, key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        form.add(here, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
        return None
    try:
        number = int(value)
    except ValueError:
        form.add(here, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
        return None
    if low is not None and number < low:
        form.add(here, "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {low}.")
        return None
    if high is not None and number > high:
        form.add(here, "NUMBER_TYPE_MAX", f"int value should be less than or equal to {high}.")
        return None
    return number


def boolean(form: FormErrors, obj: dict[str, Any], key: str, path: Path) -> bool | None:
    """A boolean field (JSON ``true``/``false`` only); ``None`` when absent or invalid."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        form.add([*path, key], "BASE_TYPE_BOOLEAN", "Must be either true or false.")
        return None
    return value


def snowflake(form: FormErrors, value: Any, path: Path) -> int | None:
    """A snowflake (an integer or a string of digits, 0 to 2^64 - 1); ``None`` if invalid."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    if number is None or not 0 <= number < SNOWFLAKE_LIMIT:
        form.add(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')
        return None
    return number


def count(form: FormErrors, items: list[Any], path: Path, *, low: int, high: int) -> None:
    """An array's length within ``low``..``high``, worded as Discord words it."""
    if low and not low <= len(items) <= high:
        form.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
    elif len(items) > high:
        form.max_length(path, high)


def required(form: FormErrors, path: Path) -> None:
    form.add(path, "BASE_TYPE_REQUIRED", "This field is required")


def url(
    form: FormErrors,
    obj: dict[str, Any],
    key: str,
    path: Path,
    schemes: tuple[str, ...],
    *,
    required: bool = False,
) -> str | None:
    """A URL of one of ``schemes`` (at most 2,048 characters); web URLs need a host.
    ``None`` when absent or invalid."""
    value = text(form, obj, key, path, max_len=URL_MAX, required=required)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        allowed = ", ".join(repr(s) for s in schemes)
        form.add(
            [*path, key],
            "URL_TYPE_INVALID_SCHEME",
            f'Scheme "{parts.scheme}" is not supported. Scheme must be one of ({allowed}).',
        )
        return None
    if not parts.netloc and parts.scheme != "attachment":
        form.add([*path, key], "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        return None
    return value


def type_choices(form: FormErrors, path: Path, allowed: Collection[int]) -> None:
    """A component ``type`` that may not stand here, worded as Discord words it."""
    choices = ", ".join(str(kind) for kind in sorted(allowed))
    if len(allowed) == 1:
        choices += ","
    form.add(
        [*path, "type"],
        "UNION_TYPE_CHOICES",
        f'Value of field "type" must be one of ({choices}).',
    )
