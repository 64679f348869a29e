"""A clock for tests that moves only when told to or slept on."""

from __future__ import annotations

import asyncio


class ManualClock:
    """A `Clock` that moves only when told to (`advance`) or when something sleeps on it.

    Sleeping advances the time by the amount slept and returns at once, so a sequential
    client polling the emulator runs a "three-minute" job instantly and deterministically.
    """

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._origin = start
        self._elapsed = 0.0  # kept apart from the epoch so tiny steps are not rounded away

    def __repr__(self) -> str:
        return f"ManualClock(monotonic={self._elapsed:.3f})"

    def advance(self, seconds: float) -> None:
        self._elapsed += max(0.0, seconds)

    def now(self) -> float:
        return self._origin + self._elapsed

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)

    async def wait_for(self, event: asyncio.Event, within: float) -> bool:
        await asyncio.sleep(0)
        if not event.is_set():
            self.advance(within)
        return event.is_set()

    def to_real(self, seconds: float) -> float:
        """Real timeouts derived from this clock stay as long as they say."""
        return seconds
