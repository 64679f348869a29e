"""Time as the bot sees it.

Every wait and timestamp in the job machinery goes through a `Clock`, so tests and
benchmarks can run a "three-minute" video job in a fraction of a second by running the
bot, the RunComfy emulator and the fake Discord on one scaled clock.

Processes that share one database must also share one time: a deadline written by one
and read by another means nothing if their hosts' clocks disagree. A `CorrectedClock`
is a process's clock set by another's (the database's, see `bot.jobs.sharing`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time, monotonic time and sleeping, all in the clock's own seconds."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    def from_real(self, epoch: float) -> float:
        """What this clock reads at the real time `epoch` (seconds since the Unix epoch, as
        another clock, such as the database's, says it)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this many of the clock's seconds."""
        ...

    async def wait_for(self, event: asyncio.Event, within: float) -> bool:
        """Wait until `event` is set or `within` clock seconds pass; True if it was set."""
        ...

    def to_real(self, seconds: float) -> float:
        """How many real seconds this many clock seconds take."""
        ...


class ScaledClock:
    """A clock that runs `speed` times faster than real time (1.0 is real time).

    It reads the real time at `origin` (a Unix time; by default the moment it is created)
    and then advances `speed` clock seconds per real second, so timestamps stay plausible
    dates. Scaled clocks in several processes agree when they are given one origin.
    """

    def __init__(self, speed: float = 1.0, *, origin: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall_start = time.time()
        self._real_start = time.monotonic()
        self.origin = self._wall_start if origin is None else origin

    def __repr__(self) -> str:
        return f"ScaledClock(speed={self.speed})"

    def _elapsed(self) -> float:
        return (time.monotonic() - self._real_start) * self.speed

    def now(self) -> float:
        return self.from_real(self._wall_start) + self._elapsed()

    def from_real(self, epoch: float) -> float:
        return self.origin + (epoch - self.origin) * self.speed

    def monotonic(self) -> float:
        return self._elapsed()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    async def wait_for(self, event: asyncio.Event, within: float) -> bool:
        if event.is_set():
            return True
        try:
            async with asyncio.timeout(max(0.0, within) / self.speed):
                await event.wait()
        except TimeoutError:
            return False
        return True

    def to_real(self, seconds: float) -> float:
        return seconds / self.speed


class CorrectedClock:
    """`base` corrected by an offset: it reads what another clock (the database's) reads,
    once `agree` has been told what that clock said. Waits and durations are the base's."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self.offset = 0.0
        """Clock seconds added to the base's reading."""

    def __repr__(self) -> str:
        return f"CorrectedClock({self.base!r}, offset={self.offset:+.3f})"

    def agree(self, reference: float, *, before: float, after: float) -> None:
        """Another clock read the real time `reference` while the base read between
        `before` and `after`: from now on read as it does (to within half that span)."""
        self.offset = self.base.from_real(reference) - (before + after) / 2

    def now(self) -> float:
        return self.base.now() + self.offset

    def from_real(self, epoch: float) -> float:
        return self.base.from_real(epoch)

    def monotonic(self) -> float:
        return self.base.monotonic()

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds)

    async def wait_for(self, event: asyncio.Event, within: float) -> bool:
        return await self.base.wait_for(event, within)

    def to_real(self, seconds: float) -> float:
        return self.base.to_real(seconds)


def system_clock() -> ScaledClock:
    """The real clock, for production."""
    return ScaledClock(1.0)
