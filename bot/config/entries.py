"""One environment setting as the table declares it, and how it is read.

An `EnvSetting` is everything about a setting: its name, its rule (type, range and the
words for them), its default and what it does. `bot.config.loading` reads it,
`bot.config.document` writes `.env.example` and `docs/configuration.md` from it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import InvalidOperation
from enum import Enum
from typing import Any, Generic, TypeVar

from bot.config.rules import ConfigError, Refused, Rule

T = TypeVar("T")
D = TypeVar("D")

SHOWN_CHARS = 40
"""A refused value longer than this is cut short in the refusal."""


@dataclass(frozen=True, slots=True)
class Required:
    """The default of a setting that has none: what to put in `.env`."""

    what: str


@dataclass(frozen=True, slots=True)
class EnvSetting(Generic[T, D]):
    """`T` is the type of a value that was set, `D` the default's (None where unset means
    "none", `Required` where the setting must be set)."""

    name: str
    rule: Rule[T]
    default: D
    does: str
    """What it does, in a sentence or two (the comment in `.env.example`)."""

    def read(self, env: Mapping[str, str]) -> T | D:
        """The value, or the default when unset or blank; a refusal is a `ConfigError`."""
        text = env.get(self.name, "").strip()
        if not text:
            return self.default
        try:
            return self.rule.parse(text)
        except Refused as refused:
            raise ConfigError(self.name, str(refused)) from None
        except (ValueError, InvalidOperation):
            shown = text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."
            raise ConfigError(self.name, f"is {shown!r}, but it must be {self.allowed}.") from None

    def required(self: EnvSetting[T, Required], env: Mapping[str, str]) -> T:
        value = self.read(env)
        if isinstance(value, Required):
            raise ConfigError(
                self.name, f"is not set. Put {value.what} in .env (see .env.example)."
            )
        return value

    @property
    def allowed(self) -> str:
        return self.rule.allowed.replace("{default}", self.shown_default)

    @property
    def shown_default(self) -> str:
        """The default as it is written in `.env` (empty when there is none)."""
        return as_written(self.default)


@dataclass(frozen=True, slots=True)
class Section:
    """Settings that belong together, in the order `.env.example` lists them."""

    title: str
    settings: tuple[EnvSetting[Any, Any], ...]


def as_written(value: object) -> str:
    """A value as it would be written in `.env`: `true`, `30`, `0.084`, `11,22`, or nothing."""
    if value is None or isinstance(value, Required):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Collection) and not isinstance(value, str):
        return ",".join(str(item) for item in sorted(value))
    return str(value)
