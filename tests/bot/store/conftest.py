"""Every store test gets a fresh database of each kind (`backend`, tests/bot/conftest.py),
opened the way the bot opens it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.jobs.ports import JobStorage
from bot.store.opening import Storage
from bot.store.postgres import PgDatabase
from tests.bot.store.backends import StoreBackend


@pytest.fixture
async def storage(backend: StoreBackend) -> AsyncIterator[Storage]:
    storage = await backend.open()
    yield storage
    await storage.close()


@pytest.fixture
def store(storage: Storage) -> JobStorage:
    return storage.jobs


@pytest.fixture
async def db(backend: StoreBackend) -> AsyncIterator[PgDatabase]:
    """A PostgreSQL pool of its own on the test's database (PostgreSQL backends only)."""
    postgres = backend.settings().postgres
    assert postgres is not None
    db = await PgDatabase.open(postgres.dsn.reveal())
    yield db
    await db.close()


async def notify(db: PgDatabase, channel: str, payloads: list[str]) -> None:
    """Send each payload on a NOTIFY channel, as another process would."""

    async def send(conn: asyncpg.Connection) -> None:
        for payload in payloads:
            await conn.execute("SELECT pg_notify($1, $2)", channel, payload)

    await db.run(send)
