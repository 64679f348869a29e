"""One PostgreSQL LISTEN/NOTIFY channel, as the processes sharing a database use it to reach
each other (`bot.store.pg_peers` for the jobs, `bot.store.pg_news` for servers' changes).

It listens on a connection of its own (NOTIFY reaches only sessions listening at that
moment), opens it again when the server dropped it, sends with a pooled connection, owns
the tasks that act on what arrives, and folds complaints: anyone who can connect to the
database can NOTIFY on the channel, so a payload that is not a message is named in one
WARNING, with the ones that follow within `warn_every` seconds counted into the next.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bot.store.postgres import PgDatabase

Received = Callable[[str], None]
"""Called on the event loop with each payload; must return at once (spawn the work)."""


class PgChannel:
    def __init__(
        self, db: PgDatabase, name: str, *, log: logging.Logger, warn_every: float = 60.0
    ) -> None:
        """`log`: where complaints go (the user's own logger); `warn_every`: real seconds
        between two warnings about malformed payloads."""
        self._db = db
        self.name = name
        self._log = log
        self._warn_every = warn_every
        self._received: Received | None = None
        self._listener: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_warning = float("-inf")
        self._folded = 0

    async def listen(self, received: Received) -> None:
        self._received = received
        await self._connect()

    async def _connect(self) -> None:
        assert self._received is not None
        received = self._received
        self._listener = await self._db.connect()
        await self._listener.add_listener(self.name, lambda *args: received(args[-1]))

    async def keep_listening(self) -> None:
        """Reconnect the listening connection if the server dropped it."""
        if self._received is not None and (self._listener is None or self._listener.is_closed()):
            await self._connect()

    async def notify(self, payload: str) -> None:
        async def notify(conn: Any) -> None:
            await conn.execute("SELECT pg_notify($1, $2)", self.name, payload)

        await self._db.run(notify)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Act on a payload in a task of its own, cancelled on `close`."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def malformed(self, what: str, payload: str) -> None:
        """A payload that is not a message: one WARNING now, then at most one per
        `warn_every` seconds, counting those in between."""
        now = time.monotonic()
        if now - self._last_warning < self._warn_every:
            self._folded += 1
            return
        more = f" ({self._folded} more malformed since the last warning)" if self._folded else ""
        self._log.warning(
            "ignored a malformed message on the %s channel: %s: %.80r%s",
            self.name,
            what,
            payload,
            more,
        )
        self._last_warning = now
        self._folded = 0

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
