"""Peers over a real PostgreSQL NOTIFY: whatever arrives on the channel that is not a
well-formed message (not JSON, not an object, a field missing or of the wrong type) is
named in one WARNING, folded while more keep coming, and changes nothing; the next
well-formed request is answered as ever."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from bot.jobs.model import Failure
from bot.jobs.peers import Message
from bot.store.pg_peers import CHANNEL, PgPeers
from bot.store.postgres import PgDatabase
from testkit.waiting import eventually
from tests.bot.store.conftest import notify

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

MALFORMED = [
    "not json at all",
    "[1, 2, 3]",
    '"a string"',
    "42",
    "null",
    "{}",
    '{"from": 7, "action": "cancel"}',
    '{"from": "elsewhere"}',
    '{"from": "elsewhere", "action": ["cancel"]}',
    '{"from": "elsewhere", "action": "cancel", "token": 5}',
    '{"from": "elsewhere", "reply_to": 3, "token": "t"}',
    '{"from": "elsewhere", "action": "cancel", "job": "seven", "by": 1, "token": "t"}',
    '{"from": "elsewhere", "action": "abandon", "failure": "no such failure"}',
]


class Holder:
    """A handler that answers a cancel for job 1 and nothing else; it records what it saw."""

    def __init__(self) -> None:
        self.seen: list[Message] = []

    async def __call__(self, message: Message) -> Message | None:
        self.seen.append(message)
        if message["action"] == "cancel" and int(message["job"]) == 1:
            return {"outcome": "cancelled", "problem": None}
        if message["action"] == "abandon":
            Failure(message["failure"])
        return None


async def test_malformed_peer_messages_are_one_warning_and_change_nothing(
    db: PgDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    holder = Holder()
    peers = PgPeers(db, name="holder", warn_every=0.5)
    await peers.start(holder)
    answers: list[str] = []
    asker = await db.connect()
    await asker.add_listener(CHANNEL, lambda *args: answers.append(args[-1]))
    request = {"action": "cancel", "job": 1, "by": 2, "from": "asker", "token": "t1"}

    def records() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "bot.store.pg_peers"]

    try:
        with caplog.at_level(logging.WARNING):
            await notify(db, CHANNEL, [*MALFORMED, json.dumps(request)])
            await eventually(
                lambda: any('"reply_to": "asker"' in answer for answer in answers),
                what="the answer to the well-formed request",
            )
            first = records()
            await asyncio.sleep(0.6)
            await notify(db, CHANNEL, MALFORMED[:3])
            await eventually(lambda: len(records()) >= 2, what="the next, folded warning")
    finally:
        await asker.close()
        await peers.close()

    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == [], "no ERROR"
    assert all(r.exc_info is None for r in caplog.records), "no traceback"
    assert len(first) == 1, [r.getMessage() for r in first]
    assert first[0].levelno == logging.WARNING
    assert "not JSON" in first[0].getMessage(), "says what was wrong"
    later = records()[1]
    assert later.levelno == logging.WARNING
    assert "more malformed" in later.getMessage(), "the folded ones are counted"
    answered = [m for m in holder.seen if m["from"] == "asker"]
    assert answered == [request], "the well-formed request was answered, once"
    assert all(isinstance(m.get("action"), str) for m in holder.seen), (
        "no message without an action reached the handler"
    )
