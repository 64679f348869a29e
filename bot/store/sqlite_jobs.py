"""Durable job storage in the bot's SQLite database (see `bot.store.sqlite`).

One process holds every job of this database, so a job's writes are fenced by its
version alone (one code path with PostgreSQL's); the rows and the reads are those of
every store (`bot.store.job_rows`, `bot.store.job_reads`)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from bot.jobs.leases import JobChanged, Room
from bot.jobs.model import Job
from bot.store.job_reads import JobReads
from bot.store.job_rows import COLUMNS, to_row
from bot.store.sqlite import Database

_INSERT = f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
_UPDATE = (
    f"UPDATE jobs SET {', '.join(f'{column} = ?' for column in COLUMNS)} "
    "WHERE id = ? AND version = ?"
)


class JobStore(JobReads[Database]):
    """Jobs, row by row; every call runs on the database thread."""

    @classmethod
    async def open(cls, path: Path | str) -> JobStore:
        """A store on its own database (for tools and tests that need nothing else)."""
        return cls(await Database.open(path), owns_db=True)

    async def insert(self, job: Job) -> Job:
        """Store a new job; its `id` (0 on input) is assigned by the database."""
        row = to_row(job)

        def insert(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(_INSERT, row)
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return replace(job, id=await self.db.run(insert))

    async def save(self, job: Job) -> Job:
        """Write the whole job, if its row is still at the job's version (see
        `JobStorage.save`). Called for every change, before the change is announced."""
        written = replace(job, version=job.version + 1)

        def update(conn: sqlite3.Connection) -> bool | None:
            """Written; or the row moved on (False), or there is none (None)."""
            if conn.execute(_UPDATE, (*to_row(written), job.id, job.version)).rowcount == 1:
                return True
            found = conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job.id,)).fetchone()
            return None if found is None else False

        landed = await self.db.run(update)
        if landed is None:
            raise KeyError(f"job {job.id} is not in the store")
        if not landed:
            raise JobChanged(job.id, None, job.version)
        return written

    async def save_if_room(self, job: Job, room: Room) -> Job | None:
        """One process holds every job of this database, and its line has already made
        room for the job: just write it."""
        return await self.save(job)

    @contextlib.asynccontextmanager
    async def intake_lock(self, guild_id: int | None) -> AsyncIterator[None]:
        """One process owns this database; its intake already takes one job at a time."""
        yield
