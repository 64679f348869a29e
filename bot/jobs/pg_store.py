"""Durable job storage in PostgreSQL: the same rows and queries as `bot.jobs.store`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from bot.jobs.model import Job, JobState
from bot.jobs.store import COLUMNS, filters, from_row, to_row, usage_from_row
from bot.jobs.usage import UsageRecord
from bot.pg import PgDatabase, numbered
from bot.runcomfy.request import DEFAULT_DURATION

_INSERT = numbered(
    f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
    "RETURNING id"
)
_UPDATE = numbered(f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in COLUMNS)} WHERE id = ?")


class PgJobStore:
    """Jobs, row by row, on a pooled PostgreSQL connection."""

    def __init__(self, db: PgDatabase, *, owns_db: bool = False) -> None:
        self.db = db
        self._owns_db = owns_db

    @classmethod
    async def open(cls, dsn: str) -> PgJobStore:
        """A store on its own pool (for tools and tests that need nothing else)."""
        return cls(await PgDatabase.open(dsn), owns_db=True)

    async def close(self) -> None:
        if self._owns_db:
            await self.db.close()

    async def insert(self, job: Job) -> Job:
        """Store a new job; its `id` (0 on input) is assigned by the database."""
        row = to_row(job)

        async def insert(conn: Any) -> int:
            job_id: int = await conn.fetchval(_INSERT, *row)
            return job_id

        return replace(job, id=await self.db.run(insert))

    async def save(self, job: Job) -> None:
        """Write the whole job. Called for every change, before the change is announced."""
        row = (*to_row(job), job.id)

        async def update(conn: Any) -> str:
            status: str = await conn.execute(_UPDATE, *row)
            return status

        if await self.db.run(update) != "UPDATE 1":
            raise KeyError(f"job {job.id} is not in the store")

    async def get(self, job_id: int) -> Job | None:
        async def get(conn: Any) -> Any:
            return await conn.fetchrow("SELECT * FROM jobs WHERE id = $1", job_id)

        row = await self.db.run(get)
        return None if row is None else from_row(row)

    async def load_open(self) -> list[Job]:
        """Every job the tracker still has work for, oldest first."""
        return await self._select("WHERE is_open = 1 ORDER BY id", ())

    async def find(
        self,
        *,
        requester_id: int | None = None,
        guild_id: int | None = None,
        states: Iterable[JobState] | None = None,
        since: float | None = None,
        limit: int | None = 25,
    ) -> list[Job]:
        """Recent jobs, newest first, filtered by any of requester, server, states, age."""
        where, params = filters(
            requester_id=requester_id, guild_id=guild_id, states=states, since=since
        )
        params.append(limit)
        return await self._select(f"{where} ORDER BY id DESC LIMIT ?", params)

    async def usage_records(
        self, *, since: float, guild_id: int | None, requester_id: int | None = None
    ) -> list[UsageRecord]:
        """The few columns usage needs, for a server's (or a member's) jobs since `since`."""
        where, params = filters(requester_id=requester_id, guild_id=guild_id, since=since)
        query = numbered(
            "SELECT requester_id, created_at, state, estimated_cost, cost, "
            f"COALESCE((request::jsonb ->> 'duration')::numeric, {DEFAULT_DURATION}) AS seconds "
            f"FROM jobs {where}"
        )

        async def select(conn: Any) -> list[Any]:
            rows: list[Any] = await conn.fetch(query, *params)
            return rows

        return [usage_from_row(row) for row in await self.db.run(select)]

    async def _select(self, tail: str, params: Sequence[Any]) -> list[Job]:
        query = numbered(f"SELECT * FROM jobs {tail}")

        async def select(conn: Any) -> list[Any]:
            rows: list[Any] = await conn.fetch(query, *params)
            return rows

        return [from_row(row) for row in await self.db.run(select)]
