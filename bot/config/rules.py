"""How a setting's text becomes its value, and the words for what is allowed.

A `Rule` pairs the two, so the range a setting is checked against and the range its
refusal (and its documentation) names are written once, in the rule's arguments.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from bot.secret import Secret

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


class ConfigError(Exception):
    """A setting is missing or invalid. `str()` is the one line shown to the operator."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"{setting} {problem}")


class Refused(Exception):
    """A value a rule refuses in its own words, without echoing it (it may be a secret)."""


@dataclass(frozen=True, slots=True)
class Rule(Generic[T]):
    parse: Callable[[str], T]
    """The value from the setting's text; ValueError (or `Refused`) when it is not allowed."""
    allowed: str
    """Ends the refusal "… but it must be <allowed>."; `{default}` names the default."""


def whole(low: int, high: int, says: str = "a whole number {low} to {high}") -> Rule[int]:
    def parse(text: str) -> int:
        number = int(text)
        if not low <= number <= high:
            raise ValueError(text)
        return number

    return Rule(parse, says.format(low=low, high=high))


def number(low: float, high: float, says: str = "{low:g} to {high:g}") -> Rule[float]:
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(text)
        return value

    return Rule(parse, says.format(low=low, high=high))


def seconds(low: float, high: float) -> Rule[float]:
    return number(low, high, "{low:g} to {high:g} seconds")


def _money(text: str) -> Decimal:
    amount = Decimal(text)
    if not amount.is_finite() or amount < 0:
        raise ValueError(text)
    return amount


MONEY = Rule(_money, "a dollar amount like {default}")


def _id_list(text: str) -> tuple[int, ...]:
    ids = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(part)
        ids.append(int(part))
    return tuple(ids)


def id_list(says: str) -> Rule[tuple[int, ...]]:
    """Comma-separated numbers (`;` works too); an empty list is up to the caller."""
    return Rule(_id_list, says)


def one_of(choices: Sequence[str]) -> Rule[str]:
    """One of `choices`, in any case (written in upper case)."""

    def parse(text: str) -> str:
        if text.upper() not in choices:
            raise ValueError(text)
        return text.upper()

    return Rule(parse, "one of " + ", ".join(choices))


def either(kind: type[E]) -> Rule[E]:
    """A value of a two-valued enum, in any case."""
    return Rule(lambda text: kind(text.lower()), " or ".join(kind))


def _https_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme == "https" and parts.hostname:
        return text.rstrip("/")
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return text.rstrip("/")
    raise ValueError(text)


HTTPS_URL = Rule(_https_url, "an https:// URL such as {default}")
"""Plain http:// only for a local emulator."""


def _host(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if len(text) > 253 or not HOST_NAME.fullmatch(text):
        raise ValueError(text)
    return text


HOST = Rule(_host, "an IP address or a host name")


def _token(text: str) -> Secret:
    if any(ch.isspace() for ch in text):
        raise Refused("contains spaces. Paste the token alone, without quotes or prefixes.")
    return Secret(text)


TOKEN = Rule(_token, "the token alone, without spaces, quotes or prefixes")
