"""Servers' changes over a real PostgreSQL NOTIFY: a well-formed change from another process
makes this one read that server again; one of its own is not read back; whatever else
arrives is named in one WARNING, folded while more keep coming, and changes nothing."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.store.pg_news import CHANNEL, PgNews
from bot.store.postgres import PgDatabase
from testkit.waiting import eventually
from tests.bot.store.conftest import notify

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

MALFORMED = [
    "not json",
    "[1]",
    "null",
    "{}",
    '{"guild_id": "7"}',
    '{"guild_id": true}',
    '{"guild_id": 1.5}',
]


async def test_changes_reach_other_processes_and_garbage_is_one_folded_warning(
    db: PgDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    reloaded: list[int] = []

    async def reload(guild_id: int) -> None:
        reloaded.append(guild_id)

    here = PgNews(db, name="here", warn_every=0.5)
    there = PgNews(db, name="there")
    await here.start(reload)

    def warnings() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "bot.store.pg_news"]

    try:
        with caplog.at_level(logging.WARNING):
            await notify(db, CHANNEL, MALFORMED)
            await there.tell(42)
            await here.tell(43)
            await eventually(lambda: reloaded == [42], what="the other process's change")
            first = warnings()
            await asyncio.sleep(0.6)
            await notify(db, CHANNEL, MALFORMED[:2])
            await eventually(lambda: len(warnings()) >= 2, what="the next, folded warning")
    finally:
        await here.close()
        await there.close()

    assert reloaded == [42], "its own change is not read back, garbage reads nothing"
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert len(first) == 1, [r.getMessage() for r in first]
    assert "not JSON" in first[0].getMessage()
    assert "more malformed" in warnings()[1].getMessage()
