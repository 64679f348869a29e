"""Whether the store takes writes, said once a minute rather than once a failure, and found
out again by itself.

A database that refuses writes (locked, read-only, disk full, restarting) must not fill
the log and the disk with a traceback per job per turn: the first failure is an ERROR,
repeats are folded into one ERROR per `every` seconds, and the recovery is logged once.
While writes fail, jobs in line are held back (their first write fails) and new videos
are refused (their insert fails). Nothing waits for a write to come along to notice the
recovery: while the store refuses, `StoreProbe` tries a write that changes nothing, backing
off, so the health (and the readiness endpoint) comes back by itself even when the bot is
idle, and the line moves again at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.jobs.events import EventBus, LineMayMove, StoreRefuses
from bot.jobs.ports import StoreError

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

log = logging.getLogger(__name__)


class StoreHealth:
    """Says `StoreRefuses` when a write fails after one that landed."""

    def __init__(self, now: Callable[[], float], *, bus: EventBus, every: float = 60.0) -> None:
        self._now = now
        self._bus = bus
        self._every = every
        self._failing_since: float | None = None
        self._last_logged = float("-inf")
        self._failures = 0

    @property
    def writable(self) -> bool:
        return self._failing_since is None

    def failed(self, error: BaseException) -> None:
        now = self._now()
        self._failures += 1
        if now - self._last_logged >= self._every:
            self._last_logged = now
            log.error(
                "the job database refuses writes (%s); %d failed writes so far; jobs are "
                "kept in memory and retried, new videos are refused until it recovers",
                error,
                self._failures,
            )
        if self._failing_since is None:
            self._failing_since = now
            self._bus.publish(StoreRefuses())

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


class StoreProbe:
    """While the store refuses writes, tries one that changes nothing: after
    `store_retry_delay`, then twice as long each time up to `store_retry_cap`."""

    def __init__(self, context: TrackerContext) -> None:
        self._health = context.book.health
        self._store = context.book.store
        self._scheduler = context.scheduler
        self._clock = context.clock
        self._bus = context.bus
        self._first = context.settings.store_retry_delay
        self._cap = context.settings.store_retry_cap
        self._probing = False
        context.bus.subscribe(StoreRefuses, self.on_store_refuses)

    def on_store_refuses(self, event: StoreRefuses) -> None:
        if not self._probing and not self._scheduler.closing:
            self._probing = True
            self._scheduler.spawn(self._probe(), name="store-probe")

    async def _probe(self) -> None:
        delay = self._first
        try:
            while True:
                await self._clock.sleep(delay)
                if self._health.writable:
                    return
                try:
                    await self._store.check_writable()
                except StoreError as error:
                    self._health.failed(error)
                    delay = min(delay * 2, self._cap)
                else:
                    self._health.succeeded()
                    self._bus.publish(LineMayMove())
                    return
        finally:
            self._probing = False
