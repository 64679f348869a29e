"""Every text the bot shows, per language: gettext `.po` catalogs read with Babel.

Catalogs are keyed by stable ids (`failure.no_video`), so a sentence can be reworded in
English without touching the German. English is the fallback for a missing key and for
languages without a catalog. Catalogs are read once (they are package data and never
change while the bot runs) and are immutable afterwards.
"""

from __future__ import annotations

import gettext
import math
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

from babel import Locale
from babel.lists import format_list
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "bot"
FALLBACK = "en"
CENT = Decimal("0.01")
MEBIBYTE = 1024 * 1024
FORMATS_KEPT = 512
"""Formatted numbers remembered: Babel takes tens of microseconds per number, and a
status card shows the same few prices and settings again on every edit."""

Entry = str | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    """One language's messages: a text, or the plural forms of one."""

    language: str
    messages: Mapping[str, Entry]
    plural_index: Callable[[int], int]


def catalog_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str) -> Catalog:
    """A `.po` file as an immutable mapping; empty translations count as missing."""
    with path.open("rb") as file:
        po = read_po(file, locale=language)
    messages: dict[str, Entry] = {}
    for message in po:
        if not message.id:
            continue
        key = str(message.id if isinstance(message.id, str) else message.id[0])
        text = message.string
        if isinstance(text, tuple | list):
            if all(text):
                messages[key] = tuple(text)
        elif text:
            messages[key] = text
    return Catalog(language, MappingProxyType(messages), gettext.c2py(po.plural_expr))


def placeholders(text: str) -> frozenset[str]:
    """The `{name}` placeholders of a text."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


@dataclass(frozen=True, slots=True)
class Texts:
    """The words and number formats of one language, English behind every missing key."""

    catalog: Catalog
    fallback: Catalog

    @property
    def language(self) -> str:
        return self.catalog.language

    def knows(self, key: str) -> bool:
        """Whether a catalog (this language's or English) has `key`."""
        return key in self.catalog.messages or key in self.fallback.messages

    def _entry(self, key: str) -> tuple[Catalog, Entry]:
        for catalog in (self.catalog, self.fallback):
            entry = catalog.messages.get(key)
            if entry is not None:
                return catalog, entry
        return self.fallback, key

    def __call__(self, key: str, /, **values: object) -> str:
        """The text for `key` with its `{placeholders}` filled in."""
        _, entry = self._entry(key)
        text = entry if isinstance(entry, str) else entry[-1]
        return text.format(**values)

    def plural(self, key: str, count: int, /, **values: object) -> str:
        """The form of `key` that fits `count` (shown as `{count}`)."""
        catalog, entry = self._entry(key)
        if isinstance(entry, str):
            text = entry
        else:
            text = entry[min(catalog.plural_index(count), len(entry) - 1)]
        return text.format(count=count, **values)

    def usd(self, amount: Decimal) -> str:
        """`$0.42` / `0,42 $`: two decimals, rounded half up, no grouping (as before)."""
        rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        return _usd(repr(rounded), rounded, self.language)

    def decimal(self, value: float | Decimal, digits: int = 1) -> str:
        """`3.5` / `3,5`, with exactly `digits` decimals."""
        pattern = "0." + "0" * digits if digits else "0"
        return _decimal(repr(value), value, pattern, self.language)

    def number(self, value: float | Decimal) -> str:
        """A number as short as it can be (`0.084` / `0,084`), no grouping."""
        return _decimal(repr(value), value, "0.######", self.language)

    def integer(self, value: int) -> str:
        """`2,500` / `2.500`: a whole number, grouped the way the language groups."""
        return _decimal(repr(value), value, None, self.language)

    def as_given(self, value: float) -> str:
        """A number someone typed, every digit kept: `2,500` / `2.500`, `5.0` / `5,0`,
        `0.25` / `0,25`; what has no plain decimal form (`inf`, `1e+300`) as Python writes it."""
        if isinstance(value, int):
            return self.integer(value)
        written = repr(value)
        if not math.isfinite(value) or "e" in written:
            return written
        decimals = len(written.partition(".")[2])
        return format_decimal(
            value, format="0." + "0" * decimals, locale=self.language, decimal_quantization=True
        )

    def either(self, choices: Iterable[str]) -> str:
        """`16:9, 9:16, or 1:1` / `16:9, 9:16 oder 1:1`."""
        return format_list(list(choices), style="or", locale=self.language)

    def megabytes(self, size: int) -> str:
        """`12.3 MB` (binary megabytes, as Discord counts its upload limits)."""
        return self("unit.megabytes", size=self.decimal(size / MEBIBYTE))


@lru_cache(maxsize=FORMATS_KEPT)
def _usd(written: str, rounded: Decimal, language: str) -> str:
    """`written` (the amount's repr) keys the cache with `rounded`: `-0.00 == 0.00`."""
    return format_currency(rounded, "USD", locale=language, group_separator=False)


@lru_cache(maxsize=FORMATS_KEPT)
def _decimal(written: str, value: float | Decimal, pattern: str | None, language: str) -> str:
    """`written` (the value's repr) keys the cache with `value`: `1 == 1.0 == Decimal(1)`
    and `-0.0 == 0.0`, yet each is written apart."""
    return format_decimal(value, format=pattern, locale=language)


@dataclass(frozen=True, slots=True)
class Languages:
    """Every catalog beside the code, and which one a Discord locale reads."""

    catalogs: Mapping[str, Catalog]

    def language_of(self, locale: object) -> str:
        """`de`, `en-US`, `discord.Locale.german` → a language with a catalog, else English."""
        raw = str(getattr(locale, "value", locale) or "")
        language = raw.replace("_", "-").split("-")[0].lower()
        return language if language in self.catalogs else FALLBACK

    def texts(self, locale: object = None) -> Texts:
        fallback = self.catalogs[FALLBACK]
        return Texts(self.catalogs[self.language_of(locale)], fallback)

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.catalogs))


def available_languages() -> tuple[str, ...]:
    """Languages that have a catalog: a folder with `LC_MESSAGES/bot.po`."""
    return tuple(sorted(p.name for p in LOCALES_DIR.iterdir() if catalog_path(p.name).is_file()))


@cache
def languages() -> Languages:
    """The catalogs, read once: they are package data and never change at run time."""
    return Languages(
        MappingProxyType(
            {name: read_catalog(catalog_path(name), name) for name in available_languages()}
        )
    )


def texts(locale: object = None) -> Texts:
    """The texts for a Discord locale (English when it has no catalog)."""
    return languages().texts(locale)


def english() -> Texts:
    return texts(FALLBACK)


def language_name(language: str) -> str:
    """`Deutsch`, `English`: a language named in its own words."""
    return Locale.parse(language).get_display_name(language) or language
