"""What both job stores read the same way: one job, the open ones, recent ones, usage and a
member's open counts; and the writes they make alike: a request id left for whoever holds
the job, and a write that changes nothing (does the database take writes?). Each store
adds how it writes the rest (`bot.store.sqlite_jobs`, `bot.store.pg_jobs`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from bot.jobs.model import Job, JobState
from bot.jobs.usage import UsageRecord
from bot.store.dialect import Queries
from bot.store.job_rows import filters, from_row, open_counts_query, usage_from_row, usage_query

D = TypeVar("D", bound=Queries)

_WRITE_NOTHING = "UPDATE jobs SET id = id WHERE id = -1"
"""Takes the write lock (SQLite) or a writable transaction (PostgreSQL) and changes nothing."""

_LEAVE_REQUEST_ID = (
    "UPDATE jobs SET request_id = ?, version = version + 1 "
    f"WHERE id = ? AND state = '{JobState.SUBMITTING.value}' AND request_id IS NULL"
)


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

    async def check_writable(self) -> None:
        """A write that changes nothing (see `JobStorage.check_writable`)."""
        await self.db.execute(_WRITE_NOTHING, ())

    async def leave_request_id(self, job_id: int, request_id: str) -> bool:
        """Record RunComfy's request id on a job still marked as being sent, whoever holds
        it now: fenced by the row's state and an empty request id instead of the lease, for
        a process whose lease ran out while its submit was under way. True when the row
        holds this request id now."""
        if await self.db.execute(_LEAVE_REQUEST_ID, (request_id, job_id)) == 1:
            return True
        job = await self.get(job_id)
        return job is not None and job.request_id == request_id

    async def _select(self, tail: str, params: Sequence[Any]) -> list[Job]:
        return await self.db.fetch(f"SELECT * FROM jobs {tail}", params, from_row)
