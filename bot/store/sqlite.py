"""The bot's SQLite database: one connection, one worker thread, one versioned schema.

SQLite calls block, so every call runs on a single dedicated thread and the event loop
only awaits it; one thread also serialises writes, which is what SQLite wants. The file
is in WAL mode, and the schema is versioned with `PRAGMA user_version` and upgraded by
`MIGRATIONS`, in order, each in its own transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from bot.jobs.ports import StoreError

T = TypeVar("T")


MIGRATIONS: Sequence[str] = (
    # 1: jobs.
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        state TEXT NOT NULL,
        is_open INTEGER NOT NULL,
        request TEXT NOT NULL,
        requester_id INTEGER NOT NULL,
        guild_id INTEGER,
        channel_id INTEGER NOT NULL,
        upload_limit INTEGER,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        state_times TEXT NOT NULL,
        estimated_cost TEXT NOT NULL,
        request_id TEXT,
        queue_position INTEGER,
        output_url TEXT,
        cost TEXT,
        error TEXT,
        status_message_id INTEGER,
        notice TEXT NOT NULL,
        notice_attempts INTEGER NOT NULL DEFAULT 0,
        notice_message_id INTEGER,
        notice_error TEXT,
        deadline_at REAL,
        not_before REAL,
        submit_attempts INTEGER NOT NULL DEFAULT 0,
        cancelled_by INTEGER,
        parent_id INTEGER REFERENCES jobs(id),
        extra TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX jobs_open ON jobs(id) WHERE is_open = 1;
    CREATE INDEX jobs_requester ON jobs(requester_id, id);
    CREATE INDEX jobs_guild ON jobs(guild_id, id);
    CREATE UNIQUE INDEX jobs_request_id ON jobs(request_id) WHERE request_id IS NOT NULL;
    """,
    # 2: per-server settings, one row per changed setting (absent = the default applies).
    """
    CREATE TABLE server_settings (
        guild_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_by INTEGER,
        updated_at REAL NOT NULL,
        PRIMARY KEY (guild_id, key)
    );
    CREATE INDEX jobs_created ON jobs(created_at);
    """,
    # 3: failures are named by a code (the `error` column) plus a detail; older rows kept
    # English text there, which becomes the detail of a "legacy" failure.
    """
    ALTER TABLE jobs ADD COLUMN error_detail TEXT;
    UPDATE jobs SET error_detail = error, error = 'legacy' WHERE error IS NOT NULL;
    """,
    # 4: which process holds an open job, and until when (used by PostgreSQL, where several
    # processes share the jobs; one SQLite process holds every job, so these stay empty).
    """
    ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until REAL;
    """,
)


def _migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"the database schema is version {version}, newer than this bot knows "
            f"({len(MIGRATIONS)}); upgrade the bot"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
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
            _migrate(conn)
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

    async def schema_version(self) -> int:
        return await self.run(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0])

    async def close(self) -> None:
        if self._closed:
            return
        await self.run(lambda conn: conn.close())
        self._closed = True
        self._executor.shutdown(wait=True)
