"""Servers' changes told between processes over PostgreSQL's LISTEN/NOTIFY (see
`bot.policy.book.ServerNews`).

A channel of its own, beside the jobs' peers (`bot.store.pg_peers`): these messages want
no answer and no job holder, only every other process to read one server's settings and
policy again. A process that was not listening when a message went out catches up by
comparing versions (`PolicyBook.refresh`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import asyncpg

from bot.jobs.ports import StoreError
from bot.policy.book import NewsHandler
from bot.store.postgres import PgDatabase

log = logging.getLogger(__name__)

CHANNEL = "kling_servers"


class PgNews:
    def __init__(self, db: PgDatabase, *, name: str) -> None:
        self._db = db
        self._name = name
        self._handler: NewsHandler | None = None
        self._listener: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, handler: NewsHandler) -> None:
        self._handler = handler
        await self._listen()

    async def _listen(self) -> None:
        self._listener = await self._db.connect()
        await self._listener.add_listener(CHANNEL, self._received)

    async def keep_listening(self) -> None:
        if self._handler is not None and (self._listener is None or self._listener.is_closed()):
            await self._listen()

    async def tell(self, guild_id: int) -> None:
        payload = json.dumps({"guild_id": guild_id, "from": self._name})

        async def notify(conn: Any) -> None:
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)

        await self._db.run(notify)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()

    def _received(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            guild_id = int(message["guild_id"])
        except (ValueError, TypeError, KeyError):
            log.warning("ignored a malformed server change from a peer")
            return
        if message.get("from") == self._name or self._handler is None:
            return
        task = asyncio.create_task(self._reload(guild_id), name="server-changed")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload(self, guild_id: int) -> None:
        assert self._handler is not None
        try:
            await self._handler(guild_id)
        except (StoreError, asyncpg.PostgresError, OSError) as error:
            log.warning("could not read server %d's changes: %s", guild_id, error)
        except Exception:
            log.exception("reading server %d's changes failed", guild_id)
