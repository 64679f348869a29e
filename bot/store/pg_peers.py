"""Peers over PostgreSQL's LISTEN/NOTIFY: the database every process already shares is
also how they reach each other, so there is no broker to run and no address to configure.

Each process listens on one channel on a connection of its own. A request carries the
asker's name and a token; the holder answers on the same channel, addressed to the asker.
NOTIFY is delivered only to sessions listening at that moment, so a process that is down
simply does not answer and the asker times out (its jobs are taken over by lease).

Anyone who can connect to the database can NOTIFY on the channel, so what arrives is read
defensively: a payload that is not a JSON object with the fields a message needs (or a
request its handler finds ill-typed) changes nothing, and is named in one WARNING, with
the ones that follow within `warn_every` seconds counted into the next.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import asyncpg

from bot.jobs.peers import Handler, Message
from bot.jobs.ports import StoreError
from bot.store.pg_channel import PgChannel
from bot.store.postgres import PgDatabase

log = logging.getLogger(__name__)

CHANNEL = "kling_jobs"


class Malformed(ValueError):
    """A payload on the channel that is not a message; `str()` says what is wrong."""


def parse(payload: str) -> Message:
    """A message: a JSON object that is either an answer (string `reply_to` and `token`)
    or a request (string `from` and `action`, and a string `token` when it wants an
    answer)."""
    try:
        message = json.loads(payload)
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(message, dict):
        raise Malformed(f"a JSON {type(message).__name__}, not an object")
    wanted = ("reply_to", "token") if "reply_to" in message else ("from", "action")
    for key in wanted:
        if not isinstance(message.get(key), str):
            raise Malformed(f"'{key}' missing or not a string")
    if "token" in message and not isinstance(message["token"], str):
        raise Malformed("'token' is not a string")
    return message


class PgPeers:
    def __init__(self, db: PgDatabase, *, name: str, warn_every: float = 60.0) -> None:
        """`warn_every`: real seconds between two warnings about malformed messages."""
        self._channel = PgChannel(db, CHANNEL, log=log, warn_every=warn_every)
        self._name = name
        self._handler: Handler | None = None
        self._waiting: dict[str, asyncio.Future[Message]] = {}

    async def start(self, handler: Handler) -> None:
        self._handler = handler
        await self._channel.listen(self._received)

    async def keep_listening(self) -> None:
        """Reconnect the listening connection if the server dropped it."""
        await self._channel.keep_listening()

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
        await self._channel.close()

    async def _send(self, message: Message) -> None:
        await self._channel.notify(json.dumps(message))

    def _received(self, payload: str) -> None:
        try:
            message = parse(payload)
        except Malformed as problem:
            self._channel.malformed(str(problem), payload)
            return
        if message.get("reply_to") == self._name:
            answer = self._waiting.get(str(message.get("token")))
            if answer is not None and not answer.done():
                answer.set_result(message)
            return
        if "reply_to" in message or message["from"] == self._name:
            return
        self._channel.spawn(self._answer(message, payload), name="peer-request")

    async def _answer(self, message: Message, payload: str) -> None:
        assert self._handler is not None
        try:
            answer = await self._handler(message)
        except (KeyError, TypeError, ValueError) as error:
            what = f"a request with a missing or ill-typed field ({type(error).__name__}: {error})"
            self._channel.malformed(what, payload)
            return
        except (StoreError, asyncpg.PostgresError, OSError) as error:
            log.warning("could not answer a peer: %s", error)
            return
        except Exception:
            log.exception("answering a peer's request failed")
            return
        if answer is None or "token" not in message:
            return
        try:
            await self._send({**answer, "reply_to": message["from"], "token": message["token"]})
        except (StoreError, asyncpg.PostgresError, OSError) as error:
            log.warning("could not answer a peer: %s", error)
