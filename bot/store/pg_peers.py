"""Peers over PostgreSQL's LISTEN/NOTIFY: the database every process already shares is
also how they reach each other, so there is no broker to run and no address to configure.

Each process listens on one channel on a connection of its own. A request carries the
asker's name and a token; the holder answers on the same channel, addressed to the asker.
NOTIFY is delivered only to sessions listening at that moment, so a process that is down
simply does not answer and the asker times out (its jobs are taken over by lease).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import asyncpg

from bot.jobs.peers import Handler, Message
from bot.jobs.ports import StoreError
from bot.store.postgres import PgDatabase

log = logging.getLogger(__name__)

CHANNEL = "kling_jobs"


class PgPeers:
    def __init__(self, db: PgDatabase, *, name: str) -> None:
        self._db = db
        self._name = name
        self._handler: Handler | None = None
        self._listener: Any = None
        self._waiting: dict[str, asyncio.Future[Message]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, handler: Handler) -> None:
        self._handler = handler
        await self._listen()

    async def _listen(self) -> None:
        self._listener = await self._db.connect()
        await self._listener.add_listener(CHANNEL, self._received)

    async def keep_listening(self) -> None:
        """Reconnect the listening connection if the server dropped it."""
        if self._handler is not None and (self._listener is None or self._listener.is_closed()):
            await self._listen()

    async def ask(self, request: Message, *, within: float) -> Message | None:
        token = uuid.uuid4().hex
        answer: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[token] = answer
        try:
            await self._send({**request, "from": self._name, "token": token})
            return await asyncio.wait_for(answer, within)
        except TimeoutError:
            return None
        finally:
            self._waiting.pop(token, None)

    async def tell(self, request: Message) -> None:
        await self._send({**request, "from": self._name})

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()

    async def _send(self, message: Message) -> None:
        payload = json.dumps(message)

        async def notify(conn: Any) -> None:
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)

        await self._db.run(notify)

    def _received(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message: Message = json.loads(payload)
        except ValueError:
            log.warning("ignored a malformed message from a peer")
            return
        if message.get("reply_to") == self._name:
            answer = self._waiting.get(str(message.get("token")))
            if answer is not None and not answer.done():
                answer.set_result(message)
            return
        if "reply_to" in message or message.get("from") == self._name:
            return
        task = asyncio.create_task(self._answer(message), name="peer-request")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, message: Message) -> None:
        assert self._handler is not None
        try:
            answer = await self._handler(message)
            if answer is not None and "token" in message:
                await self._send({**answer, "reply_to": message["from"], "token": message["token"]})
        except (StoreError, asyncpg.PostgresError, OSError) as error:
            log.warning("could not answer a peer: %s", error)
        except Exception:
            log.exception("answering a peer's request failed")
