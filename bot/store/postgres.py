"""The bot's PostgreSQL database: a small asyncpg pool and the same versioned schema.

The schema is SQLite's (`bot.store.schema` renders both). The version lives in a one-row
`schema_version` table; each migration runs in its own transaction under an advisory
lock, so bots starting together against one server migrate once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import asyncpg

from bot.jobs.ports import StoreError
from bot.store.dialect import POSTGRES, Dialect, Row, numbered
from bot.store.schema import PG_MIGRATIONS

T = TypeVar("T")

DB_NOW = "extract(epoch FROM clock_timestamp())"
"""The database's own time, in epoch seconds: leases are timed by the one clock every
process shares, so no host's clock can make a lease look expired."""

MIGRATION_LOCK = 0x6B6C696E67
"""The advisory lock key held while migrating ("kling")."""

_REFUSALS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
"""What a refusing server or a lost connection raises (a connection the server dropped
mid-query can surface as InternalClientError); callers see `StoreError`."""


async def _schema_version(conn: Any) -> int:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
        "INSERT INTO schema_version (version) SELECT 0 "
        "WHERE NOT EXISTS (SELECT 1 FROM schema_version)"
    )
    version: int = await conn.fetchval("SELECT version FROM schema_version")
    return version


async def migrate(conn: Any, migrations: Sequence[str] = PG_MIGRATIONS) -> None:
    """Apply the missing migrations in order, one transaction each."""
    while True:
        async with conn.transaction():
            await conn.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            version = await _schema_version(conn)
            if version > len(migrations):
                raise RuntimeError(
                    f"the database schema is version {version}, newer than this bot knows "
                    f"({len(migrations)}); upgrade the bot"
                )
            if version == len(migrations):
                return
            await conn.execute(migrations[version])
            await conn.execute("UPDATE schema_version SET version = $1", version + 1)


class PgDatabase:
    """A pool of connections to one PostgreSQL database, migrated on open."""

    def __init__(self, pool: Any, dsn: str) -> None:
        self._pool = pool
        self._dsn = dsn
        self._closed = False

    @classmethod
    async def open(cls, dsn: str, *, max_size: int = 5) -> PgDatabase:
        """Connect and migrate. Connection errors name the server, never the password.

        The pool keeps no floor of connections: a connection the server dropped (a restart)
        is replaced when next needed, instead of asyncpg retrying a floor in the background
        with a traceback per try while the server is still down."""
        pool = await asyncpg.create_pool(dsn, min_size=0, max_size=max_size)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, dsn)

    async def run(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        """Run `fn(connection)` on a pooled connection; the server's refusals come back as
        `StoreError`, so callers need not know it is PostgreSQL."""
        if self._closed:
            raise RuntimeError("the database is closed")
        try:
            async with self._pool.acquire() as conn:
                return await fn(conn)
        except _REFUSALS as error:
            raise StoreError(f"{type(error).__name__}: {error}") from error

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[Any]:
        """One pooled connection for a while (a session lock lives as long as it is held);
        the server's refusals come back as `StoreError`."""
        if self._closed:
            raise RuntimeError("the database is closed")
        try:
            conn = await self._pool.acquire()
        except _REFUSALS as error:
            raise StoreError(f"{type(error).__name__}: {error}") from error
        try:
            yield conn
        except _REFUSALS as error:
            raise StoreError(f"{type(error).__name__}: {error}") from error
        finally:
            await self._pool.release(conn)

    async def connect(self) -> Any:
        """A connection of its own, outside the pool (to LISTEN on for as long as it lives)."""
        try:
            return await asyncpg.connect(self._dsn)
        except _REFUSALS as error:
            raise StoreError(f"{type(error).__name__}: {error}") from error

    @property
    def dialect(self) -> Dialect:
        return POSTGRES

    async def fetch(self, sql: str, params: Sequence[Any], into: Callable[[Row], T]) -> list[T]:
        """The rows of a query written with `?` placeholders, each made `into` what the
        caller keeps."""

        async def fetch(conn: Any) -> list[Any]:
            rows: list[Any] = await conn.fetch(numbered(sql), *params)
            return rows

        return [into(row) for row in await self.run(fetch)]

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        async def execute(conn: Any) -> str:
            status: str = await conn.execute(numbered(sql), *params)
            return status

        status = await self.run(execute)
        count = status.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0

    async def schema_version(self) -> int:
        async def read(conn: Any) -> int:
            version: int = await conn.fetchval("SELECT version FROM schema_version")
            return version

        return await self.run(read)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._pool.close()
