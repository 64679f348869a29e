"""How a job is kept in a row of the `jobs` table, for both databases.

`JOB_COLUMNS` is the one table of the job's columns: each names its column, the `Job`
field it keeps (a `JobOrigin` field for the origin's), and its `Codec`, how the value
is written and read back. `to_row` and `from_row` follow it, and so do both stores'
inserts, updates and reads (`bot.store.sqlite_jobs`, `bot.store.pg_jobs`).

To add a column: give `Job` its field, add one line here, and add a migration that
creates the column (`bot.store.schema`); tests/bot/store check that the three agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

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
from bot.store.dialect import Dialect, Row


@dataclass(frozen=True, slots=True)
class Codec:
    """A field's value → what its column holds (`encode`), and back (`decode`)."""

    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _optional(codec: Codec) -> Codec:
    """NULL for None, the codec for anything else."""
    return Codec(
        lambda value: None if value is None else codec.encode(value),
        lambda value: None if value is None else codec.decode(value),
    )


def _enum(kind: type[StrEnum]) -> Codec:
    return Codec(lambda member: member.value, kind)


SAME = Codec(_same, _same)
DECIMAL = Codec(str, Decimal)
REQUEST = Codec(
    lambda request: json.dumps(request.to_payload(), ensure_ascii=False),
    lambda text: KlingRequest.from_payload(json.loads(text)),
)
STATE_TIMES = Codec(
    lambda times: json.dumps({state.value: at for state, at in times.items()}),
    lambda text: {JobState(state): at for state, at in json.loads(text).items()},
)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    codec: Codec = SAME
    field: str = ""
    """The `Job` (or `JobOrigin`) field it keeps, when not named as the column is."""
    of_origin: bool = False
    """Keeps a field of the job's `JobOrigin`."""

    @property
    def attribute(self) -> str:
        return self.field or self.name

    def encode(self, job: Job) -> Any:
        return self.codec.encode(getattr(job.origin if self.of_origin else job, self.attribute))


JOB_COLUMNS: tuple[Column, ...] = (
    Column("state", _enum(JobState)),
    Column("request", REQUEST),
    Column("requester_id", of_origin=True),
    Column("guild_id", of_origin=True),
    Column("channel_id", of_origin=True),
    Column("upload_limit", of_origin=True),
    Column("active_limit", of_origin=True),
    Column("created_at"),
    Column("updated_at"),
    Column("state_times", STATE_TIMES),
    Column("estimated_cost", DECIMAL),
    Column("request_id"),
    Column("queue_position"),
    Column("output_url"),
    Column("cost", _optional(DECIMAL)),
    Column("error", _optional(_enum(Failure)), field="failure"),
    Column("error_detail", field="failure_detail"),
    Column("status_message_id"),
    Column("notice", _enum(NoticeState)),
    Column("notice_attempts"),
    Column("notice_message_id"),
    Column("notice_error"),
    Column("deadline_at"),
    Column("not_before"),
    Column("submit_attempts"),
    Column("cancelled_by"),
    Column("parent_id"),
    Column("locale"),
    Column("deleted_by"),
    Column("deleted_at"),
    Column("version"),
    Column("session_id"),
)

COLUMNS = ("is_open", *(column.name for column in JOB_COLUMNS))
"""Every column a job writes: `is_open` (derived from the job, so that the open jobs are
found by an index) and the table's."""


def to_row(job: Job) -> tuple[Any, ...]:
    """The values of `COLUMNS`, in order."""
    return (int(is_open(job)), *(column.encode(job) for column in JOB_COLUMNS))


def from_row(row: Row) -> Job:
    values = {column: column.codec.decode(row[column.name]) for column in JOB_COLUMNS}
    origin = {column.attribute: value for column, value in values.items() if column.of_origin}
    fields = {column.attribute: value for column, value in values.items() if not column.of_origin}
    return Job(id=row["id"], origin=JobOrigin(**origin), **fields)


def usage_from_row(row: Row) -> UsageRecord:
    return UsageRecord(
        requester_id=row["requester_id"],
        created_at=row["created_at"],
        state=JobState(row["state"]),
        seconds=int(row["seconds"]),
        estimated_cost=Decimal(row["estimated_cost"]),
        cost=None if row["cost"] is None else Decimal(row["cost"]),
    )


def listed(states: Iterable[JobState]) -> str:
    """States as an SQL list, for `state IN (…)`."""
    return ", ".join(f"'{state.value}'" for state in sorted(states))


def open_counts_query(dialect: Dialect) -> str:
    """A member's open jobs in one server (direct messages have no server): at RunComfy,
    and waiting."""
    return (
        f"SELECT sum(CASE WHEN state IN ({listed(ACTIVE_STATES)}) THEN 1 ELSE 0 END) AS active, "
        f"sum(CASE WHEN state IN ({listed(LOCAL_STATES)}) THEN 1 ELSE 0 END) AS waiting "
        f"FROM jobs WHERE is_open = 1 AND requester_id = ? AND guild_id {dialect.same} ?"
    )


def usage_query(dialect: Dialect, where: str) -> str:
    """The few columns usage needs (the video's length read from the stored request)."""
    seconds = dialect.json_value("request", "duration", "numeric")
    return (
        "SELECT requester_id, created_at, state, estimated_cost, cost, "
        f"COALESCE({seconds}, {DEFAULT_DURATION}) AS seconds FROM jobs {where}"
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
