"""When each session next needs a look, on one owned, cancellable task.

The deadlines are times on the tracker's clock (corrected to the database's where
processes share it), kept in the store, so they survive restarts: at start-up every
unfinished session is due at once, and one whose deadline passed while the bot was down
is closed then. Every `recheck` clock seconds the store is read again, which is how a
process learns of sessions another process started, and how a recap whose claimant died
is finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.jobs.ports import StoreError
from bot.sessions.ports import HeraldUnavailable

log = logging.getLogger(__name__)

Advance = Callable[[int], Awaitable[float | None]]
"""Does what is due for a session; returns when it is next due (None: never again)."""
Refresh = Callable[[], Awaitable[list[int]]]
"""The unfinished sessions' ids, read from the store."""


class SessionTimer:
    def __init__(
        self,
        clock: Clock,
        *,
        advance: Advance,
        refresh: Refresh,
        recheck: float,
        retry: float,
    ) -> None:
        self._clock = clock
        self._advance = advance
        self._refresh = refresh
        self._recheck = recheck
        self._retry = retry
        self._due: dict[int, float] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: dict[int, asyncio.Task[None]] = {}
        """One look at a time per session, each on a task of its own, so a recap held up by
        Discord never holds up another session's deadline."""
        self._next_refresh = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="session-timer")

    async def close(self) -> None:
        tasks = [task for task in (self._task, *self._running.values()) if task is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()

    def is_alive(self) -> bool:
        return self._task is not None and not self._task.done()

    def due(self, session_id: int, at: float) -> None:
        """Look at the session at `at` (sooner if it is already due sooner)."""
        current = self._due.get(session_id)
        if current is None or at < current:
            self._due[session_id] = at
            self._wakeup.set()

    def forget(self, session_id: int) -> None:
        self._due.pop(session_id, None)

    @property
    def sessions_due(self) -> int:
        return len(self._due)

    async def _run(self) -> None:
        while True:
            now = self._clock.now()
            if now >= self._next_refresh:
                await self._read_store(now)
            for session_id in sorted(self._due):
                if self._due[session_id] <= now and session_id not in self._running:
                    del self._due[session_id]
                    self._running[session_id] = asyncio.create_task(
                        self._look_at(session_id), name=f"session-{session_id}"
                    )
            self._wakeup.clear()
            waiting = [at for sid, at in self._due.items() if sid not in self._running]
            nearest = min([*waiting, self._next_refresh])
            await self._clock.wait_for(self._wakeup, max(0.0, nearest - self._clock.now()))

    async def _read_store(self, now: float) -> None:
        self._next_refresh = now + self._recheck
        try:
            for session_id in await self._refresh():
                self.due(session_id, now)
        except StoreError as error:
            log.warning("could not read the unfinished sessions (%s); trying again", error)
            self._next_refresh = now + self._retry

    async def _look_at(self, session_id: int) -> None:
        try:
            await self._look(session_id)
        finally:
            self._running.pop(session_id, None)
            self._wakeup.set()

    async def _look(self, session_id: int) -> None:
        try:
            next_at = await self._advance(session_id)
        except StoreError as error:
            log.warning("session %d: the database refused (%s); trying again", session_id, error)
            self.due(session_id, self._clock.now() + self._retry)
            return
        except HeraldUnavailable as error:
            log.warning("session %d: not shown to members (%s); trying again", session_id, error)
            self.due(session_id, self._clock.now() + self._retry)
            return
        except Exception:
            log.exception("session %d: its deadline could not be kept; trying again", session_id)
            self.due(session_id, self._clock.now() + self._retry)
            return
        if next_at is not None:
            self.due(session_id, next_at)
