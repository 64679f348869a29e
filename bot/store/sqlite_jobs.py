"""Durable job storage in the bot's SQLite database (see `bot.store.sqlite`).

The row encoding (`COLUMNS`, `to_row`, `from_row`, `filters`) is shared with the
PostgreSQL store (`bot.store.pg_jobs`), so both keep a job the same way."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from bot.jobs.leases import Room
from bot.jobs.model import (
    ACTIVE_STATES,
    LOCAL_STATES,
    Failure,
    Job,
    JobOrigin,
    JobState,
    NoticeState,
    is_open,
)
from bot.jobs.usage import UsageRecord
from bot.runcomfy.request import DEFAULT_DURATION, KlingRequest
from bot.store.sqlite import Database

COLUMNS = (
    "state",
    "is_open",
    "request",
    "requester_id",
    "guild_id",
    "channel_id",
    "upload_limit",
    "created_at",
    "updated_at",
    "state_times",
    "estimated_cost",
    "request_id",
    "queue_position",
    "output_url",
    "cost",
    "error",
    "error_detail",
    "status_message_id",
    "notice",
    "notice_attempts",
    "notice_message_id",
    "notice_error",
    "deadline_at",
    "not_before",
    "submit_attempts",
    "cancelled_by",
    "parent_id",
    "extra",
)


def _states(states: Iterable[JobState]) -> str:
    return ", ".join(f"'{state.value}'" for state in sorted(states))


OPEN_COUNTS = (
    f"SELECT sum(CASE WHEN state IN ({_states(ACTIVE_STATES)}) THEN 1 ELSE 0 END) AS active, "
    f"sum(CASE WHEN state IN ({_states(LOCAL_STATES)}) THEN 1 ELSE 0 END) AS waiting "
    "FROM jobs WHERE is_open = 1 AND requester_id = ? AND guild_id IS ?"
)
"""A member's open jobs in one server (`IS`: direct messages have no server)."""


class Row(Protocol):
    """A result row read by column name (`sqlite3.Row`, `asyncpg.Record`)."""

    def __getitem__(self, key: str, /) -> Any: ...


def to_row(job: Job) -> tuple[Any, ...]:
    return (
        job.state.value,
        int(is_open(job)),
        json.dumps(job.request.to_payload(), ensure_ascii=False),
        job.origin.requester_id,
        job.origin.guild_id,
        job.origin.channel_id,
        job.origin.upload_limit,
        job.created_at,
        job.updated_at,
        json.dumps({state.value: at for state, at in job.state_times.items()}),
        str(job.estimated_cost),
        job.request_id,
        job.queue_position,
        job.output_url,
        None if job.cost is None else str(job.cost),
        None if job.failure is None else job.failure.value,
        job.failure_detail,
        job.status_message_id,
        job.notice.value,
        job.notice_attempts,
        job.notice_message_id,
        job.notice_error,
        job.deadline_at,
        job.not_before,
        job.submit_attempts,
        job.cancelled_by,
        job.parent_id,
        json.dumps(dict(job.extra), ensure_ascii=False),
    )


def from_row(row: Row) -> Job:
    return Job(
        id=row["id"],
        state=JobState(row["state"]),
        request=KlingRequest.from_payload(json.loads(row["request"])),
        origin=JobOrigin(
            requester_id=row["requester_id"],
            channel_id=row["channel_id"],
            guild_id=row["guild_id"],
            upload_limit=row["upload_limit"],
        ),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        estimated_cost=Decimal(row["estimated_cost"]),
        state_times={JobState(k): v for k, v in json.loads(row["state_times"]).items()},
        request_id=row["request_id"],
        queue_position=row["queue_position"],
        output_url=row["output_url"],
        cost=None if row["cost"] is None else Decimal(row["cost"]),
        failure=None if row["error"] is None else Failure(row["error"]),
        failure_detail=row["error_detail"],
        status_message_id=row["status_message_id"],
        notice=NoticeState(row["notice"]),
        notice_attempts=row["notice_attempts"],
        notice_message_id=row["notice_message_id"],
        notice_error=row["notice_error"],
        deadline_at=row["deadline_at"],
        not_before=row["not_before"],
        submit_attempts=row["submit_attempts"],
        cancelled_by=row["cancelled_by"],
        parent_id=row["parent_id"],
        extra=json.loads(row["extra"]),
    )


def usage_from_row(row: Row) -> UsageRecord:
    return UsageRecord(
        requester_id=row["requester_id"],
        created_at=row["created_at"],
        state=JobState(row["state"]),
        seconds=int(row["seconds"]),
        estimated_cost=Decimal(row["estimated_cost"]),
        cost=None if row["cost"] is None else Decimal(row["cost"]),
    )


def filters(
    *,
    requester_id: int | None = None,
    guild_id: int | None = None,
    states: Iterable[JobState] | None = None,
    since: float | None = None,
) -> tuple[str, list[Any]]:
    """A WHERE clause (empty when nothing is filtered) and its parameters."""
    clauses: list[str] = []
    params: list[Any] = []
    if requester_id is not None:
        clauses.append("requester_id = ?")
        params.append(requester_id)
    if guild_id is not None:
        clauses.append("guild_id = ?")
        params.append(guild_id)
    if states is not None:
        wanted = [state.value for state in states]
        clauses.append(f"state IN ({', '.join('?' for _ in wanted)})" if wanted else "1 = 0")
        params.extend(wanted)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


class JobStore:
    """Jobs, row by row; every call runs on the database thread."""

    def __init__(self, db: Database, *, owns_db: bool = False) -> None:
        self.db = db
        self._owns_db = owns_db

    @classmethod
    async def open(cls, path: Path | str) -> JobStore:
        """A store on its own database (for tools and tests that need nothing else)."""
        return cls(await Database.open(path), owns_db=True)

    async def close(self) -> None:
        if self._owns_db:
            await self.db.close()

    async def insert(self, job: Job) -> Job:
        """Store a new job; its `id` (0 on input) is assigned by the database."""

        def insert(conn: sqlite3.Connection) -> int:
            placeholders = ", ".join("?" for _ in COLUMNS)
            cursor = conn.execute(
                f"INSERT INTO jobs ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                to_row(job),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        job_id = await self.db.run(insert)
        return replace(job, id=job_id)

    async def save(self, job: Job) -> None:
        """Write the whole job. Called for every change, before the change is announced."""
        assignments = ", ".join(f"{column} = ?" for column in COLUMNS)
        row = (*to_row(job), job.id)

        def update(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", row)
            if cursor.rowcount != 1:
                raise KeyError(f"job {job.id} is not in the store")

        await self.db.run(update)

    async def save_if_room(self, job: Job, room: Room) -> bool:
        """One process holds every job of this database, and its line has already made
        room for the job: just write it."""
        await self.save(job)
        return True

    async def get(self, job_id: int) -> Job | None:
        def get(conn: sqlite3.Connection) -> Job | None:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return None if row is None else from_row(row)

        return await self.db.run(get)

    async def load_open(self) -> list[Job]:
        """Every job the tracker still has work for, oldest first."""
        return await self._select("WHERE is_open = 1 ORDER BY id", ())

    async def open_counts(self, requester_id: int, guild_id: int | None) -> tuple[int, int]:
        """A member's jobs in one server (or in direct messages): at RunComfy, and waiting."""

        def count(conn: sqlite3.Connection) -> tuple[int, int]:
            row = conn.execute(OPEN_COUNTS, (requester_id, guild_id)).fetchone()
            return int(row["active"] or 0), int(row["waiting"] or 0)

        return await self.db.run(count)

    @contextlib.asynccontextmanager
    async def intake_lock(self, guild_id: int | None) -> AsyncIterator[None]:
        """One process owns this database; its intake already takes one job at a time."""
        yield

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
        params.append(-1 if limit is None else limit)
        return await self._select(f"{where} ORDER BY id DESC LIMIT ?", params)

    async def usage_records(
        self, *, since: float, guild_id: int | None, requester_id: int | None = None
    ) -> list[UsageRecord]:
        """The few columns usage needs, for a server's (or a member's) jobs since `since`.

        Quotas are checked on every new job, so this reads no more than it must."""
        where, params = filters(requester_id=requester_id, guild_id=guild_id, since=since)
        query = (
            "SELECT requester_id, created_at, state, estimated_cost, cost, "
            f"COALESCE(json_extract(request, '$.duration'), {DEFAULT_DURATION}) AS seconds "
            f"FROM jobs {where}"
        )

        def select(conn: sqlite3.Connection) -> list[UsageRecord]:
            return [usage_from_row(row) for row in conn.execute(query, params)]

        return await self.db.run(select)

    async def _select(self, tail: str, params: Sequence[Any]) -> list[Job]:
        def select(conn: sqlite3.Connection) -> list[Job]:
            rows = conn.execute(f"SELECT * FROM jobs {tail}", params).fetchall()
            return [from_row(row) for row in rows]

        return await self.db.run(select)
