"""The bot's SQLite database: one connection, one worker thread, one versioned schema.

SQLite calls block, so every call runs on a single dedicated thread and the event loop
only awaits it; one thread also serialises writes, which is what SQLite wants. The file
is in WAL mode, and the schema (`bot.store.schema`) is versioned with `PRAGMA user_version`
and upgraded migration by migration, each in its own transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bot.jobs.ports import StoreError
from bot.store.dialect import SQLITE, Dialect, Row
from bot.store.schema import SQLITE_MIGRATIONS

T = TypeVar("T")


def migrate(conn: sqlite3.Connection, migrations: Sequence[str] = SQLITE_MIGRATIONS) -> None:
    """Apply the missing migrations in order, one transaction each."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(migrations):
        raise RuntimeError(
            f"the database schema is version {version}, newer than this bot knows "
            f"({len(migrations)}); upgrade the bot"
        )
    for number, script in enumerate(migrations[version:], start=version + 1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")


class Database:
    def __init__(self, conn: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._conn = conn
        self._executor = executor
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating the file and its folder on first run) and migrate."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

        def connect() -> sqlite3.Connection:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            migrate(conn)
            return conn

        try:
            conn = await asyncio.get_running_loop().run_in_executor(executor, connect)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(conn, executor)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the database thread; SQLite's and the disk's refusals
        come back as `StoreError`, so callers need not know it is SQLite."""
        if self._closed:
            raise RuntimeError("the database is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, self._conn)
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"{type(error).__name__}: {error}") from error

    @property
    def dialect(self) -> Dialect:
        return SQLITE

    async def fetch(self, sql: str, params: Sequence[Any], into: Callable[[Row], T]) -> list[T]:
        """The rows of a query, each made `into` what the caller keeps (on the database
        thread, so that a large load does not hold the event loop)."""

        def fetch(conn: sqlite3.Connection) -> list[T]:
            return [into(row) for row in conn.execute(sql, params)]

        return await self.run(fetch)

    async def execute(self, sql: str, params: Sequence[Any]) -> int:
        def execute(conn: sqlite3.Connection) -> int:
            return conn.execute(sql, params).rowcount

        return await self.run(execute)

    async def schema_version(self) -> int:
        return await self.run(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0])

    async def close(self) -> None:
        if self._closed:
            return
        await self.run(lambda conn: conn.close())
        self._closed = True
        self._executor.shutdown(wait=True)
