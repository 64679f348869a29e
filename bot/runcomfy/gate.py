"""One gate for all RunComfy traffic: a request rate, a concurrency cap and a shared pause.

RunComfy publishes no rate limits, so the bot stays polite on its own: every HTTP attempt
(submit, status, result, cancel, from every job) passes through the same gate. When
RunComfy answers 429 with Retry-After, `pause` holds back *every* caller, not only the
one that was told to slow down, because the limit is per account, not per job.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.runcomfy.timing import Clock

logger = logging.getLogger(__name__)

_EPSILON = 1e-9


class RequestGate:
    """A token bucket (`rate_per_second`, `burst`) plus a semaphore (`max_concurrency`).

    Waiters take tokens in arrival order (one lock), so a burst of polls cannot starve a
    submit. All waiting is done on the `Clock`, so tests on a fast clock wait little.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        rate_per_second: float = 10.0,
        burst: int | None = None,
        max_concurrency: int = 10,
    ) -> None:
        if not math.isfinite(rate_per_second) or rate_per_second <= 0:
            raise ValueError("rate_per_second must be a positive number")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        burst = burst if burst is not None else max(1, math.ceil(rate_per_second))
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self.rate_per_second = rate_per_second
        self.burst = burst
        self.max_concurrency = max_concurrency
        self._tokens = float(burst)
        self._refilled_at = clock.monotonic()
        self._paused_until = clock.monotonic()
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._turn = asyncio.Lock()
        self.requests_started = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.pauses = 0

    def __repr__(self) -> str:
        return (
            f"RequestGate(rate_per_second={self.rate_per_second}, burst={self.burst}, "
            f"max_concurrency={self.max_concurrency}, in_flight={self.in_flight})"
        )

    @property
    def paused_for(self) -> float:
        """Clock seconds until the current pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock.monotonic())

    def pause(self, seconds: float) -> None:
        """Hold back every caller for `seconds`; an existing longer pause is kept."""
        if not math.isfinite(seconds) or seconds <= 0:
            return
        until = self._clock.monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1
            logger.info("RunComfy traffic paused for %.1f s", seconds)

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = now - self._refilled_at
        if elapsed > 0:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate_per_second)
        self._refilled_at = now

    async def _take_token(self) -> None:
        """Wait out any pause, then for a token. Never spins, even on a coarse clock:
        after sleeping the computed deficit the token is granted."""
        async with self._turn:
            while True:
                pause = self.paused_for
                if pause > _EPSILON:
                    await self._clock.sleep(pause)
                    continue
                self._refill()
                if self._tokens < 1.0 - _EPSILON:
                    await self._clock.sleep((1.0 - self._tokens) / self.rate_per_second)
                    self._refill()
                    if self.paused_for > _EPSILON:
                        continue
                self._tokens = max(0.0, self._tokens - 1.0)
                return

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wrap exactly one HTTP attempt: waits for a free slot, the pause and a token."""
        async with self._semaphore:
            await self._take_token()
            self.requests_started += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
