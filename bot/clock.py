"""Time as the bot sees it.

Every wait and timestamp in the job machinery goes through a `Clock`, so tests and
benchmarks can run a "three-minute" video job in a fraction of a second by running the
bot, the RunComfy emulator and the fake Discord on one scaled clock.
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

    Its epoch time starts at the real time of creation and then advances `speed`
    clock seconds per real second, so timestamps stay plausible dates.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall_origin = time.time()
        self._real_origin = time.monotonic()

    def __repr__(self) -> str:
        return f"ScaledClock(speed={self.speed})"

    def _elapsed(self) -> float:
        return (time.monotonic() - self._real_origin) * self.speed

    def now(self) -> float:
        return self._wall_origin + self._elapsed()

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


def system_clock() -> ScaledClock:
    """The real clock, for production."""
    return ScaledClock(1.0)
