"""How a refused input is told: the rule it broke, the field (or shot) it sits in, what
is allowed, and what was given. `KlingInputError` carries the English sentence; the Discord
side words `rule` and `facts` in the reader's language (catalog keys `input.<rule>`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.runcomfy.given import describe_value


class Rule(StrEnum):
    """Every input rule of the request model; the catalogs word each as `input.<rule>`."""

    TEXT_REQUIRED = "text_required"
    TEXT_TOO_LONG = "text_too_long"
    INVISIBLE_ONLY = "invisible_only"
    DURATION_RANGE = "duration_range"
    NUMBER_RANGE = "number_range"
    ONE_OF = "one_of"
    EITHER = "either"
    SHOTS_LIST = "shots_list"
    SHOTS_TOO_MANY = "shots_too_many"
    SHOT_ITEM = "shot_item"
    SHOTS_SUM = "shots_sum"
    SHOTS_SUM_DEFAULT = "shots_sum_default"
    WRONG_TYPE = "wrong_type"
    PADDED = "padded"
    NOT_AN_OPTION = "not_an_option"
    REQUIRED = "required"


class KlingInputError(ValueError):
    """An input the model would refuse: which field, what was given, what is allowed.

    `rule` names the broken rule (catalog key `input.<rule>`) and `facts` its numbers and
    allowed values; where the field is an option (or part of one of its shots), the facts
    say so as `option`, `shot` and `part`. `str(error)` is the English sentence."""

    def __init__(self, field: str, value: Any, allowed: str, *, rule: str, **facts: Any) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.rule = rule
        self.facts = facts
        super().__init__(f"`{field}` {allowed} You gave {describe_value(value)}.")

    @property
    def user_message(self) -> str:
        return str(self)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a value sits: an option, or a part (`prompt`, `duration`) of one of its shots."""

    option: str
    shot: int | None = None
    part: str | None = None

    def __str__(self) -> str:
        shot = "" if self.shot is None else f" shot {self.shot}"
        part = "" if self.part is None else f" {self.part}"
        return f"{self.option}{shot}{part}"

    def in_shot(self, shot: int, part: str | None = None) -> Place:
        return Place(self.option, shot, part)

    def facts(self) -> dict[str, Any]:
        named = {"option": self.option, "shot": self.shot, "part": self.part}
        return {name: value for name, value in named.items() if value is not None}


def input_error(
    place: Place, value: Any, allowed: str, rule: Rule, **facts: Any
) -> KlingInputError:
    """The error for a value at `place`, its place among the facts."""
    return KlingInputError(str(place), value, allowed, rule=rule, **place.facts(), **facts)


def either(choices: Iterable[str]) -> str:
    """`a or b`, `a, b, or c`."""
    items = list(choices)
    if len(items) <= 2:
        return " or ".join(items)
    return f"{', '.join(items[:-1])}, or {items[-1]}"
