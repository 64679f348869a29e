"""How numbers look to people: money, sizes and lengths of time, in one place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MEBIBYTE = 1024 * 1024


def usd(amount: Decimal) -> str:
    """`$0.42`: two decimals, rounded half up, as people expect money to look."""
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP)}"


def megabytes(size: int) -> str:
    """`12.3 MB` (binary megabytes, as Discord counts its upload limits)."""
    return f"{size / MEBIBYTE:.1f} MB"


def took(seconds: float) -> str:
    """How long something took, to the second: `2 min 5 s`, `40 s`."""
    whole = max(0, round(seconds))
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def age(seconds: float) -> str:
    """How old something is, coarsely: `40 s`, `12 min`, `3 h 5 min`."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def stopwatch(seconds: float) -> str:
    """A running time for progress lines: `3:07`."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def as_many_as_fit(
    items: Sequence[str], *, separator: str, limit: int, more: Callable[[int], str]
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
    return separator.join([*kept, more(len(items) - len(kept))])
