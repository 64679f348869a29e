"""What a member gave, described safely: whether a text shows anything, and a short
rendering of any value (never more than 60 characters of it) that the English sentence and
every catalog (`given.<kind>`) can word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Letters and symbols by category that draw nothing: Hangul fillers, the blank Braille cell."""
LONG_TEXT_CHARS = 60
"""A given text longer than this is described by its length, not quoted."""


def is_visible(char: str) -> bool:
    """A letter, number, punctuation or symbol that draws something. Format and control
    characters (zero-width spaces and joiners, direction marks), separators and combining
    marks are not visible on their own."""
    return unicodedata.category(char)[0] in "LNPS" and char not in BLANK_LOOKING


def has_visible_text(text: str) -> bool:
    """Whether a prompt shows anything: a prompt of only invisible characters is billed
    like any other but asks for nothing."""
    return any(is_visible(char) for char in text)


class GivenKind(StrEnum):
    """What kind of value a member gave, for any language to word (catalog `given.<kind>`)."""

    NOTHING = "nothing"
    TRUE = "true"
    FALSE = "false"
    EMPTY = "empty"
    SPACES = "spaces"
    INVISIBLE = "invisible"
    LONG_TEXT = "long_text"
    TEXT = "text"
    NUMBER = "number"
    LIST = "list"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Given:
    """A user's value, safely described: its kind, and `count`, `text`, `number` or `type`."""

    kind: GivenKind
    facts: Mapping[str, Any]


def given_value(value: Any) -> Given:
    """What a user's value is, short and safe to show: never more than 60 characters of it."""
    if value is None:
        return Given(GivenKind.NOTHING, {})
    if isinstance(value, bool):
        return Given(GivenKind.TRUE if value else GivenKind.FALSE, {})
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return Given(GivenKind.SPACES if value else GivenKind.EMPTY, {})
        if not has_visible_text(stripped):
            return Given(GivenKind.INVISIBLE, {"count": len(stripped)})
        if len(stripped) > LONG_TEXT_CHARS:
            return Given(GivenKind.LONG_TEXT, {"count": len(stripped)})
        return Given(GivenKind.TEXT, {"text": stripped})
    if isinstance(value, int | float):
        return Given(GivenKind.NUMBER, {"number": value})
    if isinstance(value, list | tuple):
        return Given(GivenKind.LIST, {"count": len(value)})
    return Given(GivenKind.OTHER, {"type": type(value).__name__})


def number_as_given(value: float) -> str:
    """`20`, `2,500`, `0.25`, `5.0`: an int grouped, a float as Python writes it."""
    return f"{value:,}" if isinstance(value, int) else repr(value)


ENGLISH_GIVEN: Mapping[GivenKind, str] = MappingProxyType(
    {
        GivenKind.NOTHING: "nothing",
        GivenKind.TRUE: "true",
        GivenKind.FALSE: "false",
        GivenKind.EMPTY: "an empty text",
        GivenKind.SPACES: "only spaces",
        GivenKind.INVISIBLE: "only invisible characters ({count:,})",
        GivenKind.LONG_TEXT: "a text of {count:,} characters",
        GivenKind.TEXT: "“{text}”",
        GivenKind.NUMBER: "{number}",
        GivenKind.LIST: "a list of {count} item{s}",
        GivenKind.OTHER: "a value of type {type}",
    }
)
"""How the English sentence describes each kind; the catalogs word them as `given.<kind>`."""


def describe_value(value: Any) -> str:
    """A short, safe rendering of a user's value for the English sentence."""
    seen = given_value(value)
    facts = dict(seen.facts)
    if "number" in facts:
        facts["number"] = number_as_given(facts["number"])
    plural = "" if facts.get("count") == 1 else "s"
    return ENGLISH_GIVEN[seen.kind].format(s=plural, **facts)
