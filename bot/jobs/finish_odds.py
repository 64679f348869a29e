"""How likely a run is to finish soon, under a normal run time around the learned middle:
the adaptive schedule's arithmetic, kept apart from the schedule itself.

`z` is always in spreads from the expected finish.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LATE = 3.0
"""A run this many spreads past the expected one is not described by the model."""
LIKELY = 2.5
"""From this many spreads before the expected finish on, polls are at most `dense_gap`
apart, so a trusted model is never slower to notice a finish than fixed polling."""


def survival(z: float) -> float:
    """The chance that a run has not finished by `z`."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def hazard(z: float) -> float:
    """The standard normal's hazard rate: the chance density of finishing now, given not yet."""
    left = survival(z)
    if left < 1e-12:
        return max(z, 0.0)
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) / left


@dataclass(frozen=True, slots=True)
class Tails:
    """From `z` (in spreads from the expected finish) to `LATE`, given no finish before
    `z`: the expected time left to run (in spreads), and the hazard schedule's expected
    polls per unit of `eagerness * sqrt(spread)`. Tabled once; read per poll."""

    step: float
    left: tuple[float, ...]
    polls: tuple[float, ...]

    @classmethod
    def table(cls, step: float = 0.025) -> Tails:
        count = round((LATE + LIKELY) / step)
        zs = [-LIKELY + (i + 0.5) * step for i in range(count)]
        left, polls, run_left, polls_left = [0.0], [0.0], 0.0, 0.0
        for z in reversed(zs):
            run_left += survival(z) * step
            polls_left += math.sqrt(hazard(z)) * survival(z) * step
            left.append(run_left / survival(z - step / 2))
            polls.append(polls_left / survival(z - step / 2))
        return cls(step, tuple(reversed(left)), tuple(reversed(polls)))

    def at(self, z: float) -> tuple[float, float]:
        index = round(min(max((z + LIKELY) / self.step, 0.0), len(self.left) - 1))
        return self.left[index], self.polls[index]


TAILS = Tails.table()
