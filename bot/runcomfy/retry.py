"""Retrying idempotent RunComfy calls: bounded attempts, backoff with full jitter, a deadline.

Only errors whose class says `retryable` (429, 5xx, transport) are retried; everything
else is re-raised at once. Full jitter (a random wait between 0 and the exponential
cap) keeps many jobs that failed together from retrying in lockstep. A Retry-After from
RunComfy overrides the backoff, but never past the overall deadline: if RunComfy asks
for a longer wait than the time left, the error is raised instead of sleeping in vain.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.runcomfy.errors import RateLimitedError, RunComfyError
from bot.runcomfy.timing import Clock

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry one call. Delays and deadline are clock seconds."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    deadline: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        for name in ("base_delay", "max_delay", "deadline"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        if self.max_delay < self.base_delay:
            raise ValueError("max_delay must not be smaller than base_delay")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter delay after failed attempt number `attempt` (1-based)."""
        cap = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        return rng.uniform(0.0, cap)

    def delay_for(self, error: RunComfyError, attempt: int, rng: random.Random) -> float:
        """RunComfy's Retry-After when it gave one, else the jittered backoff."""
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return max(0.0, error.retry_after)
        return self.backoff(attempt, rng)

    async def run(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        clock: Clock,
        rng: random.Random,
        description: str = "RunComfy call",
    ) -> T:
        """Call `operation` until it succeeds, a non-retryable error, or the limits are hit.

        The last error is re-raised unchanged, so callers see the same taxonomy as for a
        single attempt.
        """
        started = clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await operation()
            except RunComfyError as error:
                if not error.retryable or attempt >= self.max_attempts:
                    raise
                delay = self.delay_for(error, attempt, rng)
                remaining = self.deadline - (clock.monotonic() - started)
                if delay >= remaining:
                    logger.info(
                        "%s: giving up after %s (attempt %d): waiting %.2f s would pass "
                        "the %.0f s deadline",
                        description,
                        type(error).__name__,
                        attempt,
                        delay,
                        self.deadline,
                    )
                    raise
                logger.info(
                    "%s: %s (attempt %d of %d); retrying in %.2f s",
                    description,
                    error,
                    attempt,
                    self.max_attempts,
                    delay,
                )
                await clock.sleep(delay)
