"""How numbers look to people: money, sizes and lengths of time, in one place.

Each takes the reader's `Texts` (English when left out): Babel formats the numbers for
the language and the catalog holds the units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from bot.i18n import MEBIBYTE, Texts, english

__all__ = ["MEBIBYTE", "age", "megabytes", "stopwatch", "took", "usd"]


def usd(amount: Decimal, tr: Texts | None = None) -> str:
    """`$0.42` / `0,42 $`: two decimals, rounded half up, as people expect money to look."""
    return (tr or english()).usd(amount)


def megabytes(size: int, tr: Texts | None = None) -> str:
    """`12.3 MB` / `12,3 MB` (binary megabytes, as Discord counts its upload limits)."""
    return (tr or english()).megabytes(size)


def took(seconds: float, tr: Texts | None = None) -> str:
    """How long something took, to the second: `2 min 5 s`, `40 s`."""
    tr = tr or english()
    whole = max(0, round(seconds))
    minutes, rest = divmod(whole, 60)
    if minutes:
        return tr("unit.minutes_seconds", minutes=minutes, seconds=rest)
    return tr("unit.seconds", seconds=rest)


def age(seconds: float, tr: Texts | None = None) -> str:
    """How old something is, coarsely: `40 s`, `12 min`, `3 h 5 min`."""
    tr = tr or english()
    whole = max(0, int(seconds))
    if whole < 60:
        return tr("unit.seconds", seconds=whole)
    if whole < 3600:
        return tr("unit.minutes", minutes=whole // 60)
    return tr("unit.hours_minutes", hours=whole // 3600, minutes=whole % 3600 // 60)


def stopwatch(seconds: float) -> str:
    """A running time for progress lines: `3:07`."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def as_many_as_fit(
    items: Sequence[str],
    *,
    separator: str,
    limit: int,
    more: Callable[[int], str],
    none_fit: Callable[[int], str] | None = None,
) -> str:
    """`items` joined by `separator`; when they do not fit in `limit` characters, as many
    as fit followed by `more(hidden)` (which must stay short), so a long list never pushes
    a message past Discord's limits."""
    text = separator.join(items)
    if len(text) <= limit:
        return text
    budget = limit - len(separator) - len(more(len(items)))
    kept: list[str] = []
    used = 0
    for item in items:
        extra = len(item) + (len(separator) if kept else 0)
        if used + extra > budget:
            break
        kept.append(item)
        used += extra
    hidden = len(items) - len(kept)
    if not kept and none_fit is not None:
        return none_fit(hidden)
    return separator.join([*kept, more(hidden)])
