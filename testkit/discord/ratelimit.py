"""Fixed-window rate-limit buckets and the X-RateLimit headers discord.py steers by."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from .ids import bucket_hash

DISCORD_CHANNEL_LIMIT = (5, 5.0)
"""Discord's message bucket per channel: 5 creates/edits per 5 s (the fake's default)."""


@dataclass
class _Window:
    remaining: int
    resets_at: float


@dataclass(frozen=True)
class Verdict:
    """The outcome of one request against a bucket, rendered as Discord's headers."""

    allowed: bool
    bucket: str
    limit: int
    remaining: int
    reset_after: float

    @property
    def wait(self) -> float:
        """Seconds until the window resets, rounded up to the ms so a client that sleeps
        exactly this long never arrives early."""
        return math.ceil(max(self.reset_after, 0.0) * 1000) / 1000

    def headers(self) -> dict[str, str]:
        reset_after = self.wait
        return {
            "X-RateLimit-Bucket": self.bucket,
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{math.ceil((time.time() + reset_after) * 1000) / 1000:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }

    def rejection_headers(self) -> dict[str, str]:
        """A 429 needs ``Via`` (else discord.py assumes a Cloudflare ban) and the scope."""
        return {
            **self.headers(),
            "Retry-After": str(math.ceil(self.wait)),
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        }

    def body(self) -> dict[str, object]:
        return {
            "message": "You are being rate limited.",
            "retry_after": self.wait,
            "global": False,
        }


class RateLimiter:
    """Buckets named like Discord's (one hash per route group) and keyed by major parameter."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def hit(self, bucket: str, key: str, limit: int, per: float) -> Verdict:
        now = self._clock()
        window = self._window(bucket, key, limit, per, now)
        if window.remaining <= 0:
            return Verdict(False, bucket_hash(bucket), limit, 0, window.resets_at - now)
        window.remaining -= 1
        return Verdict(True, bucket_hash(bucket), limit, window.remaining, window.resets_at - now)

    def drain(self, bucket: str, key: str, limit: int, per: float) -> None:
        """Use up the current window, as another process sharing the token would."""
        self._window(bucket, key, limit, per, self._clock()).remaining = 0

    def _window(self, bucket: str, key: str, limit: int, per: float, now: float) -> _Window:
        window = self._windows.get((bucket, key))
        if window is None or now >= window.resets_at:
            if len(self._windows) > 10_000:
                self._prune(now)
            window = _Window(limit, now + per)
            self._windows[(bucket, key)] = window
        return window

    def _prune(self, now: float) -> None:
        self._windows = {k: w for k, w in self._windows.items() if w.resets_at > now}
