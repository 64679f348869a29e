"""What only the PostgreSQL database has to show: bots starting together against one server
migrate it once. (What both databases show: test_jobs.py, test_schema.py.)"""

from __future__ import annotations

import asyncio

import pytest

from bot.store.postgres import PgDatabase
from bot.store.schema import PG_MIGRATIONS
from tests.bot.store.backends import StoreBackend

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


async def test_bots_starting_together_migrate_once(backend: StoreBackend) -> None:
    postgres = backend.settings().postgres
    assert postgres is not None
    dsn = postgres.dsn.reveal()
    databases = await asyncio.gather(*(PgDatabase.open(dsn) for _ in range(4)))
    try:
        versions = [await db.schema_version() for db in databases]
        assert versions == [len(PG_MIGRATIONS)] * 4
    finally:
        for db in databases:
            await db.close()
