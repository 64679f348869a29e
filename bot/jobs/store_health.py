"""Whether the store takes writes, said once a minute rather than once a failure.

A database that refuses writes (locked, read-only, disk full) must not fill the log and
the disk with a traceback per job per turn: the first failure is an ERROR, repeats are
folded into one ERROR per `every` seconds, and the recovery is logged once. While writes
fail, new jobs are refused (nothing would be recorded) and jobs in line are held back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class StoreHealth:
    def __init__(self, now: Callable[[], float], *, every: float = 60.0) -> None:
        self._now = now
        self._every = every
        self._failing_since: float | None = None
        self._last_logged = float("-inf")
        self._failures = 0

    @property
    def writable(self) -> bool:
        return self._failing_since is None

    def failed(self, error: BaseException) -> None:
        now = self._now()
        if self._failing_since is None:
            self._failing_since = now
        self._failures += 1
        if now - self._last_logged >= self._every:
            self._last_logged = now
            log.error(
                "the job database refuses writes (%s); %d failed writes so far; jobs are "
                "kept in memory and retried, new videos are refused until it recovers",
                error,
                self._failures,
            )

    def succeeded(self) -> None:
        if self._failing_since is not None:
            log.warning(
                "the job database takes writes again after %.0f s (%d failed writes)",
                self._now() - self._failing_since,
                self._failures,
            )
            self._failing_since = None
            self._failures = 0
            self._last_logged = float("-inf")
