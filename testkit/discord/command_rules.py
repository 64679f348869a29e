"""Discord's rules for registering application commands (bulk overwrite, create, edit)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any

from . import errors
from .errors import FormErrors
from .form_checks import Path, as_dict, as_list, count, dicts, integer, text
from .option_values import INTEGER, NUMBER, STRING, check_number

CHAT_INPUT, USER, MESSAGE, PRIMARY_ENTRY_POINT = 1, 2, 3, 4
COMMANDS_MAX = {CHAT_INPUT: 100, USER: 15, MESSAGE: 15, PRIMARY_ENTRY_POINT: 1}
"""Commands of each type an app may have in one scope (global, or one guild)."""
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING_LENGTH_MAX = 6000
INTERACTION_CONTEXTS = (0, 1, 2)
"""GUILD, BOT_DM, PRIVATE_CHANNEL."""
INTEGRATION_TYPES = (0, 1)
"""GUILD_INSTALL, USER_INSTALL."""
NAME_MAX = 32
DESCRIPTION_MAX = 100
OPTIONS_MAX = 25
CHOICES_MAX = 25
CHOICE_TEXT_MAX = 100
COMMAND_SIZE_MAX = 8000
LOCALES = frozenset(
    {
        *("id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu"),
        *("nl", "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru"),
        *("uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko"),
    }
)


def valid_name(name: str) -> bool:
    """``^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$``, lowercase where a lowercase
    form exists (Python's ``re`` has no ``\\p{}``, so by Unicode category and block)."""
    return 1 <= len(name) <= NAME_MAX and all(_name_char(ch) for ch in name)


def _name_char(ch: str) -> bool:
    if ch.lower() != ch:
        return False
    point = ord(ch)
    devanagari = 0x0900 <= point <= 0x097F or 0xA8E0 <= point <= 0xA8FF
    thai = 0x0E00 <= point <= 0x0E7F
    return ch in "-_" or unicodedata.category(ch)[0] in "LN" or devanagari or thai


def validate_command(form: FormErrors, command: dict[str, Any], path: Path) -> None:
    """One command: name, description, localizations, options and the 8,000-char total."""
    kind = integer(form, command, "type", path, low=1, high=4) or CHAT_INPUT
    chat_input = kind == CHAT_INPUT
    name = text(form, command, "name", path, min_len=1, max_len=NAME_MAX, required=True)
    if chat_input and name is not None and not valid_name(name):
        form.add(
            [*path, "name"],
            "APPLICATION_COMMAND_INVALID_NAME",
            f"Command name is invalid: {name!r}",
        )
    _check_localizations(form, command, path, chat_names=chat_input)
    if chat_input:
        _check_description(form, command, path)
    integer(form, command, "default_member_permissions", path, low=0)
    _check_set(form, command, "contexts", path, INTERACTION_CONTEXTS, low=1)
    _check_set(form, command, "integration_types", path, INTEGRATION_TYPES, low=0)
    options = dicts(form, command.get("options"), [*path, "options"])
    _validate_options(form, options, [*path, "options"], depth=0)
    if chat_input and command_size(command) > COMMAND_SIZE_MAX:
        form.add(
            path,
            "APPLICATION_COMMAND_TOO_LARGE",
            f"Command exceeds maximum size ({COMMAND_SIZE_MAX})",
        )


def check_command_counts(commands: Iterable[dict[str, Any]]) -> None:
    """At most 100 CHAT_INPUT, 15 USER, 15 MESSAGE and 1 PRIMARY_ENTRY_POINT commands in
    one scope (Discord's documented quotas); more is 30032."""
    kinds = Counter(int(command.get("type") or CHAT_INPUT) for command in commands)
    if any(kinds[kind] > limit for kind, limit in COMMANDS_MAX.items()):
        raise errors.max_application_commands()


def _check_set(
    form: FormErrors,
    command: dict[str, Any],
    key: str,
    path: Path,
    allowed: tuple[int, ...],
    *,
    low: int,
) -> None:
    """``contexts`` / ``integration_types``: known values, each at most once, at least
    ``low`` of them when given."""
    here = [*path, key]
    values = as_list(form, command.get(key), here)
    if key in command and command[key] is not None:
        count(form, values, here, low=low, high=len(allowed))
    seen: set[int] = set()
    for index, value in enumerate(values):
        if isinstance(value, bool) or value not in allowed:
            form.add([*here, index], "BASE_TYPE_CHOICES", f"Value must be one of {allowed}.")
        elif value in seen:
            form.add(
                [*here, index],
                "SET_TYPE_ALREADY_CONTAINS_VALUE",
                "The set already contains this value",
            )
        else:
            seen.add(value)


def _check_description(form: FormErrors, obj: dict[str, Any], path: Path) -> None:
    text(form, obj, "description", path, min_len=1, max_len=DESCRIPTION_MAX, required=True)


def _check_localizations(
    form: FormErrors,
    obj: dict[str, Any],
    path: Path,
    *,
    chat_names: bool,
    name_max: int = NAME_MAX,
) -> None:
    """Keys must be Discord locales; values follow the rules of the field they localize."""
    for field, limit in (("name", name_max), ("description", DESCRIPTION_MAX)):
        key = f"{field}_localizations"
        localized = as_dict(form, obj.get(key), [*path, key])
        for locale in localized:
            here = [*path, key]
            if locale not in LOCALES:
                form.add(
                    [*here, locale],
                    "BASE_TYPE_CHOICES",
                    f"Value must be one of {sorted(LOCALES)}.",
                )
                continue
            value = text(form, localized, locale, here, min_len=1, max_len=limit, required=True)
            if field == "name" and chat_names and value is not None and not valid_name(value):
                form.add(
                    [*here, locale],
                    "APPLICATION_COMMAND_INVALID_NAME",
                    f"Command name is invalid: {value!r}",
                )


def _validate_options(
    form: FormErrors, options: list[tuple[int, dict[str, Any]]], path: Path, depth: int
) -> None:
    count(form, options, path, low=0, high=OPTIONS_MAX)
    optional_seen = False
    names: set[str] = set()
    for index, option in options:
        here = [*path, index]
        name = text(form, option, "name", here, min_len=1, max_len=NAME_MAX, required=True)
        if name is not None and not valid_name(name):
            form.add([*here, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Invalid {name!r}")
        if name in names:
            form.add(
                [*here, "name"],
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(str(name))
        _check_description(form, option, here)
        _check_localizations(form, option, here, chat_names=True)
        kind = integer(form, option, "type", here, low=1, high=11)
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if depth >= 2 or (kind == SUB_COMMAND_GROUP and depth >= 1):
                form.add([*here, "type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Bad nest")
            nested = dicts(form, option.get("options"), [*here, "options"])
            _validate_options(form, nested, [*here, "options"], depth + 1)
            continue
        choices = _check_choices(form, option.get("choices"), [*here, "choices"], kind)
        if option.get("autocomplete") is True and choices:
            form.add(
                [*here, "autocomplete"],
                "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
                "Autocomplete cannot be set on an option with choices",
            )
        integer(form, option, "min_length", here, low=0, high=STRING_LENGTH_MAX)
        integer(form, option, "max_length", here, low=1, high=STRING_LENGTH_MAX)
        if option.get("required"):
            if optional_seen:
                form.add(
                    [*here, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True


def _check_choices(form: FormErrors, value: Any, path: Path, kind: int | None) -> int:
    """An option's choices, each of the option's type; returns how many there are."""
    choices = dicts(form, value, path)
    count(form, choices, path, low=0, high=CHOICES_MAX)
    for index, choice in choices:
        here = [*path, index]
        text(form, choice, "name", here, min_len=1, max_len=CHOICE_TEXT_MAX, required=True)
        _check_localizations(form, choice, here, chat_names=False, name_max=CHOICE_TEXT_MAX)
        choice_value = choice.get("value")
        if kind == STRING:
            text(form, choice, "value", here, min_len=1, max_len=CHOICE_TEXT_MAX, required=True)
        elif kind in (INTEGER, NUMBER):
            check_number(form, choice_value, [*here, "value"], kind)
    return len(choices)


def command_size(command: dict[str, Any]) -> int:
    """Characters of names, descriptions and choice names/values of the command and all its
    options; where localizations exist only the longest form of a field counts (Discord's
    documented rule)."""
    size = _longest(command, "name") + _longest(command, "description")
    for option in _objects(command.get("options")):
        size += command_size(option)
        for choice in _objects(option.get("choices")):
            size += _longest(choice, "name") + len(str(choice.get("value", "")))
    return size


def _longest(obj: dict[str, Any], field: str) -> int:
    forms = [obj.get(field)]
    localized = obj.get(f"{field}_localizations")
    if isinstance(localized, dict):
        forms += list(localized.values())
    return max(len(str(f)) for f in forms if f is not None) if any(forms) else 0


def _objects(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
