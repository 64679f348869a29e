"""What only the SQLite database promises: its folder, WAL mode, and a thread of its own.
(What both databases show: test_jobs.py, test_schema.py.)"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bot.store.schema import SQLITE_MIGRATIONS
from bot.store.sqlite_jobs import JobStore


async def test_creates_folder_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "bot.sqlite3"
    store = await JobStore.open(path)
    try:
        assert path.exists()
        assert await store.db.schema_version() == len(SQLITE_MIGRATIONS)
    finally:
        await store.close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


async def test_sqlite_work_runs_off_the_event_loop(tmp_path: Path) -> None:
    store = await JobStore.open(tmp_path / "bot.sqlite3")
    try:
        loop_thread = threading.get_ident()
        seen: list[int] = []
        await store.db.run(lambda conn: seen.append(threading.get_ident()))
        assert seen
        assert seen[0] != loop_thread
    finally:
        await store.close()
