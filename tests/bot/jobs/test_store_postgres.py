"""What only the PostgreSQL store has to show: bots starting together migrate once, and a
server that refuses writes (or drops the connection) surfaces as `StoreError`, after which
the store recovers by itself, as the tracker's retries expect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.jobs.model import JobState
from bot.jobs.ports import StoreError
from bot.store.opening import Storage
from bot.store.postgres import PgDatabase
from bot.store.schema import PG_MIGRATIONS
from tests.bot.jobs.factories import make_job
from tests.bot.store.backends import StoreBackend

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _dsn(backend: StoreBackend) -> str:
    postgres = backend.settings().postgres
    assert postgres is not None
    return postgres.dsn.reveal()


async def _admin(backend: StoreBackend, *statements: str) -> None:
    """Run statements on the server's maintenance database, as the superuser."""
    dsn = _dsn(backend).rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
async def storage(backend: StoreBackend) -> AsyncIterator[Storage]:
    storage = await backend.open()
    yield storage
    await storage.close()


async def test_bots_starting_together_migrate_once(backend: StoreBackend) -> None:
    databases = await asyncio.gather(*(PgDatabase.open(_dsn(backend)) for _ in range(4)))
    try:
        versions = [await db.schema_version() for db in databases]
        assert versions == [len(PG_MIGRATIONS)] * 4
    finally:
        for db in databases:
            await db.close()


async def test_refused_writes_are_store_errors_and_the_store_recovers(
    backend: StoreBackend, storage: Storage
) -> None:
    name = _dsn(backend).rsplit("/", 1)[1]
    kept = await storage.jobs.insert(make_job(0, state=JobState.WAITING))
    drop_connections = (
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )
    await _admin(
        backend, f"ALTER DATABASE {name} SET default_transaction_read_only = on", drop_connections
    )
    for _ in range(3):
        with pytest.raises(StoreError):
            await storage.jobs.insert(make_job(0))
    await _admin(
        backend, f"ALTER DATABASE {name} SET default_transaction_read_only = off", drop_connections
    )
    inserted = None
    for _ in range(3):
        try:
            inserted = await storage.jobs.insert(make_job(0))
            break
        except StoreError:
            continue
    assert inserted is not None
    assert [job.id for job in await storage.jobs.load_open()] == [kept.id, inserted.id]
