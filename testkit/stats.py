"""Percentiles and the p50 / p99 / max summary every latency in the table uses."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


def percentile(values: Iterable[float], fraction: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default); NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class Summary:
    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Summary:
        data = list(values)
        return cls(
            count=len(data),
            p50=percentile(data, 0.50),
            p99=percentile(data, 0.99),
            max=max(data) if data else math.nan,
        )

    def scaled(self, factor: float) -> Summary:
        """The same summary in other units (e.g. seconds → milliseconds)."""
        return Summary(self.count, self.p50 * factor, self.p99 * factor, self.max * factor)
