"""What both job stores read the same way: one job, the open ones, recent ones, usage and a
member's open counts. Each store adds how it writes (`bot.store.sqlite_jobs`,
`bot.store.pg_jobs`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from bot.jobs.model import Job, JobState
from bot.jobs.usage import UsageRecord
from bot.store.dialect import Queries
from bot.store.job_rows import filters, from_row, open_counts_query, usage_from_row, usage_query

D = TypeVar("D", bound=Queries)


class JobReads(Generic[D]):
    """Jobs read row by row from `db`, which the store closes if it opened it."""

    def __init__(self, db: D, *, owns_db: bool = False) -> None:
        self.db = db
        self._owns_db = owns_db
        self._open_counts = open_counts_query(db.dialect)

    async def close(self) -> None:
        if self._owns_db:
            await self.db.close()

    async def get(self, job_id: int) -> Job | None:
        jobs = await self.db.fetch("SELECT * FROM jobs WHERE id = ?", (job_id,), from_row)
        return jobs[0] if jobs else None

    async def load_open(self) -> list[Job]:
        """Every job the tracker still has work for, oldest first."""
        return await self._select("WHERE is_open = 1 ORDER BY id", ())

    async def open_counts(self, requester_id: int, guild_id: int | None) -> tuple[int, int]:
        """A member's jobs in one server (or in direct messages), across every process
        sharing the database: at RunComfy, and waiting."""
        [(active, waiting)] = await self.db.fetch(
            self._open_counts,
            (requester_id, guild_id),
            lambda row: (int(row["active"] or 0), int(row["waiting"] or 0)),
        )
        return active, waiting

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
        tail = "" if limit is None else " LIMIT ?"
        if limit is not None:
            params.append(limit)
        return await self._select(f"{where} ORDER BY id DESC{tail}", params)

    async def usage_records(
        self, *, since: float, guild_id: int | None, requester_id: int | None = None
    ) -> list[UsageRecord]:
        """The few columns usage needs, for a server's (or a member's) jobs since `since`.

        Quotas are checked on every new job, so this reads no more than it must."""
        where, params = filters(requester_id=requester_id, guild_id=guild_id, since=since)
        return await self.db.fetch(usage_query(self.db.dialect, where), params, usage_from_row)

    async def _select(self, tail: str, params: Sequence[Any]) -> list[Job]:
        return await self.db.fetch(f"SELECT * FROM jobs {tail}", params, from_row)
