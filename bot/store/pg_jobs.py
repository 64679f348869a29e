"""Durable job storage in PostgreSQL, shared by several processes: the rows and the reads
are those of every store (`bot.store.job_rows`, `bot.store.job_reads`); a job is written
only by the process that holds its lease, from the row's latest version, and admitted
to RunComfy by counting every process's jobs there."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from bot.jobs.leases import JobChanged, LeaseLost, Room, process_name
from bot.jobs.model import ACTIVE_STATES, Job
from bot.store.dialect import numbered
from bot.store.job_reads import JobReads
from bot.store.job_rows import COLUMNS, listed, to_row
from bot.store.postgres import DB_NOW, PgDatabase

DEFAULT_LEASE_SECONDS = 15.0

INTAKE_LOCK = 0x6B6C69
"""With a server's id: the advisory lock held while one of its new jobs is checked and stored."""
ADMISSION_LOCK = 0x6B6C696E68
"""The advisory lock held while a job is admitted to RunComfy, so that two processes
counting the jobs at RunComfy at the same time cannot both take the last place."""

_INSERT = numbered(
    f"INSERT INTO jobs ({', '.join(COLUMNS)}, lease_owner, lease_until) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)}, ?, {DB_NOW} + ?) RETURNING id"
)
_IS_OPEN = f"${COLUMNS.index('is_open') + 1}"
_UPDATE = numbered(
    f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in COLUMNS)}, "
    f"lease_owner = CASE WHEN {_IS_OPEN} = 1 THEN lease_owner END, "
    f"lease_until = CASE WHEN {_IS_OPEN} = 1 THEN lease_until END "
    "WHERE id = ? AND version = ? AND (lease_owner IS NULL OR lease_owner = ?)"
)
"""A whole job, written only by the process that holds it (or anyone, once it is
finished: a finished job has no holder), and only from the row's latest version: a
holder whose lease ran out cannot overwrite, nor reopen, what another process wrote."""
_AT_RUNCOMFY = (
    "SELECT count(*) FILTER (WHERE guild_id IS NOT DISTINCT FROM $2 AND requester_id = $3) "
    "AS user_jobs, count(*) FILTER (WHERE guild_id = $2) AS server_jobs, count(*) AS total "
    f"FROM jobs WHERE is_open = 1 AND state IN ({listed(ACTIVE_STATES)}) AND id <> $1"
)


class PgJobStore(JobReads[PgDatabase]):
    """Jobs, row by row, on a pooled PostgreSQL connection.

    Several processes may share the database: a job this process inserts is held by it
    (`owner`) for `lease_seconds`, and it writes a job only while it holds it."""

    def __init__(
        self,
        db: PgDatabase,
        *,
        owner: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        owns_db: bool = False,
    ) -> None:
        super().__init__(db, owns_db=owns_db)
        self.owner = owner or process_name()
        self.lease_seconds = lease_seconds

    @classmethod
    async def open(cls, dsn: str) -> PgJobStore:
        """A store on its own pool (for tools and tests that need nothing else)."""
        return cls(await PgDatabase.open(dsn), owns_db=True)

    async def insert(self, job: Job) -> Job:
        """Store a new job, held by this process; its `id` is assigned by the database."""
        row = (*to_row(job), self.owner, self.lease_seconds)

        async def insert(conn: Any) -> int:
            job_id: int = await conn.fetchval(_INSERT, *row)
            return job_id

        return replace(job, id=await self.db.run(insert))

    async def save(self, job: Job) -> Job:
        """Write the whole job (see `JobStorage.save`). Called for every change, before
        the change is announced. Raises `LeaseLost` when another process holds the job
        now, `JobChanged` when the row moved on since this copy was read."""

        async def update(conn: Any) -> Job:
            return await self._update(conn, job)

        return await self.db.run(update)

    async def save_if_room(self, job: Job, room: Room) -> Job | None:
        """Write a job that is about to be submitted, if the jobs at RunComfy across every
        process leave room for it; counted and written in one transaction."""

        async def admit(conn: Any) -> Job | None:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", ADMISSION_LOCK)
                counts = await conn.fetchrow(_AT_RUNCOMFY, job.id, job.guild_id, job.requester_id)
                full = (
                    counts["user_jobs"] >= room.limits.per_user
                    or (
                        job.guild_id is not None and counts["server_jobs"] >= room.limits.per_server
                    )
                    or counts["total"] >= room.total
                )
                if full:
                    return None
                return await self._update(conn, job)

        return await self.db.run(admit)

    async def _update(self, conn: Any, job: Job) -> Job:
        written = replace(job, version=job.version + 1)
        status: str = await conn.execute(_UPDATE, *to_row(written), job.id, job.version, self.owner)
        if status == "UPDATE 1":
            return written
        row = await conn.fetchrow("SELECT lease_owner FROM jobs WHERE id = $1", job.id)
        if row is None:
            raise KeyError(f"job {job.id} is not in the store")
        holder = row["lease_owner"]
        if holder is not None and holder != self.owner:
            raise LeaseLost(job.id, holder)
        raise JobChanged(job.id, holder, job.version)

    @contextlib.asynccontextmanager
    async def intake_lock(self, guild_id: int | None) -> AsyncIterator[None]:
        """Take new jobs of one server one at a time across every process, so two processes
        cannot both let a member or a server past a limit or a daily quota."""
        key = (guild_id or 0) % 2**31
        async with self.db.hold() as conn:
            await conn.execute("SELECT pg_advisory_lock($1, $2)", INTAKE_LOCK, key)
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1, $2)", INTAKE_LOCK, key)
