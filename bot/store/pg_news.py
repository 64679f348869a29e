"""Servers' changes told between processes over PostgreSQL's LISTEN/NOTIFY (see
`bot.policy.book.ServerNews`).

A channel of its own, beside the jobs' peers (`bot.store.pg_peers`): these messages want
no answer and no job holder, only every other process to read one server's settings and
policy again. A process that was not listening when a message went out catches up by
comparing versions (`PolicyBook.refresh`).
"""

from __future__ import annotations

import json
import logging

import asyncpg

from bot.jobs.ports import StoreError
from bot.policy.book import NewsHandler
from bot.store.pg_channel import PgChannel
from bot.store.postgres import PgDatabase

log = logging.getLogger(__name__)

CHANNEL = "kling_servers"


class PgNews:
    def __init__(self, db: PgDatabase, *, name: str, warn_every: float = 60.0) -> None:
        self._channel = PgChannel(db, CHANNEL, log=log, warn_every=warn_every)
        self._name = name
        self._handler: NewsHandler | None = None

    async def start(self, handler: NewsHandler) -> None:
        self._handler = handler
        await self._channel.listen(self._received)

    async def keep_listening(self) -> None:
        await self._channel.keep_listening()

    async def tell(self, guild_id: int) -> None:
        await self._channel.notify(json.dumps({"guild_id": guild_id, "from": self._name}))

    async def close(self) -> None:
        await self._channel.close()

    def _received(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            self._channel.malformed("not JSON", payload)
            return
        if not isinstance(message, dict):
            self._channel.malformed(f"a JSON {type(message).__name__}, not an object", payload)
            return
        guild_id = message.get("guild_id")
        if not isinstance(guild_id, int) or isinstance(guild_id, bool):
            self._channel.malformed("'guild_id' missing or not a whole number", payload)
            return
        if message.get("from") == self._name or self._handler is None:
            return
        self._channel.spawn(self._reload(guild_id), name="server-changed")

    async def _reload(self, guild_id: int) -> None:
        assert self._handler is not None
        try:
            await self._handler(guild_id)
        except (StoreError, asyncpg.PostgresError, OSError) as error:
            log.warning("could not read server %d's changes: %s", guild_id, error)
        except Exception:
            log.exception("reading server %d's changes failed", guild_id)
