"""The bot process of the soak: `bench.bot_process` plus two things injected from outside
the bot, so the product code stays as it ships.

- A SQLite write outage: while the file named by `SOAK_STORE_OUTAGE_FLAG` exists, the
  store's `insert` and `save` fail with `sqlite3.OperationalError("database is locked")`,
  as SQLite does when another process holds the write lock past the busy timeout.
- Its own vital signs: every half second the event loop's task count is written (atomically)
  to the file named by `SOAK_STATS_FILE`, as one JSON object. RSS is read from /proc by the
  benchmark; temporary files by listing the bot's `TMPDIR`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import bot_process
from bot.app import VideoBot
from bot.jobs.model import Job
from bot.jobs.store import JobStore

OUTAGE_FLAG = "SOAK_STORE_OUTAGE_FLAG"
STATS_FILE = "SOAK_STATS_FILE"
STATS_EVERY_SECONDS = 0.5


def install_store_outage(flag: Path) -> None:
    """Make every job write fail while `flag` exists (checked per write). The refusal is
    raised on the database thread, inside `Database.run`, where SQLite's own would be."""
    insert, save = JobStore.insert, JobStore.save

    def locked(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("database is locked")

    def flagged() -> bool:
        return flag.exists()

    async def failing_insert(self: JobStore, job: Job) -> Job:
        if flagged():
            await self.db.run(locked)
        return await insert(self, job)

    async def failing_save(self: JobStore, job: Job) -> None:
        if flagged():
            await self.db.run(locked)
        await save(self, job)

    JobStore.insert = failing_insert  # type: ignore[method-assign]
    JobStore.save = failing_save  # type: ignore[method-assign]


def install_stats(path: Path) -> None:
    """Start the stats writer with the bot (its own task is one of those it counts)."""
    setup_hook: Callable[[VideoBot], Awaitable[None]] = VideoBot.setup_hook
    running: list[asyncio.Task[None]] = []

    async def with_stats(self: VideoBot) -> None:
        await setup_hook(self)
        running.append(asyncio.create_task(_write_stats(path), name="soak-stats"))

    VideoBot.setup_hook = with_stats  # type: ignore[method-assign]


async def _write_stats(path: Path) -> None:
    partial = path.with_name(path.name + ".part")
    while True:
        facts: dict[str, Any] = {"wall": time.time(), "tasks": len(asyncio.all_tasks())}
        partial.write_text(json.dumps(facts))
        os.replace(partial, path)
        await asyncio.sleep(STATS_EVERY_SECONDS)


def main() -> int:
    if flag := os.environ.get(OUTAGE_FLAG):
        install_store_outage(Path(flag))
    if stats := os.environ.get(STATS_FILE):
        install_stats(Path(stats))
    return bot_process.main()


if __name__ == "__main__":
    sys.exit(main())
