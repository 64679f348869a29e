"""What the RunComfy client needs of a clock; the bot's scaled clock fits it, so tests run
the same waits on fast time. Declared here so this package needs nothing of the bot."""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch (for HTTP dates such as Retry-After)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this many of the clock's seconds."""
        ...
