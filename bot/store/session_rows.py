"""How sessions, their entries and votes are kept, for both databases: the session's
columns (one table, like the job's), and everything both stores do the same way. Each
store adds the writes that need a transaction of its own kind (`bot.store.sqlite_sessions`,
`bot.store.pg_sessions`): a vote, a removal, the results."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Generic, TypeVar

from bot.jobs.model import JobState
from bot.sessions.model import Entry, EntryJob, Session, SessionState
from bot.sessions.standings import LeaderRow
from bot.store.dialect import Queries, Row

D = TypeVar("D", bound=Queries)

SESSION_COLUMNS = (
    "guild_id",
    "channel_id",
    "host_id",
    "theme",
    "locale",
    "state",
    "created_at",
    "entries_close_at",
    "vote_minutes",
    "entries_per_member",
    "budget",
    "thread_id",
    "card_message_id",
    "entries_closed_at",
    "ended_by",
    "cancelled_by",
    "recap_owner",
    "recap_until",
    "recap_channel_message_id",
    "recap_thread_message_id",
    "closed_at",
)
"""Every column a session writes (besides its id and version), named as its field."""
ENTRY_COLUMNS = ("entry_id", "session_id", "requester_id", "video", "posted_at")
UNFINISHED = "state IN ('open', 'voting', 'recap')"

_CREATE = (
    f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)}, version) "
    f"VALUES ({', '.join('?' for _ in SESSION_COLUMNS)}, 1) ON CONFLICT DO NOTHING RETURNING id"
)
_SAVE = (
    f"UPDATE sessions SET {', '.join(f'{c} = ?' for c in SESSION_COLUMNS)}, "
    "version = version + 1 WHERE id = ? AND version = ?"
)
_RECORD_ENTRY = (
    f"INSERT INTO session_entries ({', '.join(ENTRY_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in ENTRY_COLUMNS)}) ON CONFLICT DO NOTHING"
)
_ENTRY_JOBS = (
    "SELECT id, requester_id, state, is_open, estimated_cost, cost, state_times, deleted_by "
    "FROM jobs WHERE session_id = ? ORDER BY id"
)
_LEADERS = (
    "SELECT e.requester_id AS member_id, "
    "sum(CASE WHEN e.place = 1 AND e.votes > 0 THEN 1 ELSE 0 END) AS wins, "
    "count(*) AS entries, sum(COALESCE(e.votes, 0)) AS votes "
    "FROM session_entries e JOIN sessions s ON s.id = e.session_id "
    "WHERE s.guild_id = ? AND s.state IN ('recap', 'closed') AND e.place IS NOT NULL "
    "AND e.removed_by IS NULL "
    "GROUP BY e.requester_id"
)
VOTE_COUNTS = (
    "SELECT entry_id, count(*) AS votes FROM session_votes WHERE session_id = ? GROUP BY entry_id"
)
ENTRY_VOTES = "SELECT count(*) AS votes FROM session_votes WHERE entry_id = ?"
VOTER_VOTES = "SELECT count(*) AS votes FROM session_votes WHERE session_id = ? AND voter_id = ?"
HAS_VOTED = "SELECT 1 AS voted FROM session_votes WHERE entry_id = ? AND voter_id = ?"
ADD_VOTE = (
    "INSERT INTO session_votes (entry_id, voter_id, session_id, voted_at) VALUES (?, ?, ?, ?)"
)
WITHDRAW_VOTE = "DELETE FROM session_votes WHERE entry_id = ? AND voter_id = ?"
ENTRY = "SELECT * FROM session_entries WHERE entry_id = ?"
SESSION_STATE = "SELECT state FROM sessions WHERE id = ?"
REMOVE_ENTRY = (
    "UPDATE session_entries SET removed_by = ?, removed_at = ? "
    "WHERE entry_id = ? AND removed_by IS NULL"
)
DROP_VOTES = "DELETE FROM session_votes WHERE entry_id = ?"
RESULT = "UPDATE session_entries SET votes = ?, place = ? WHERE entry_id = ?"


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def session_row(session: Session) -> tuple[Any, ...]:
    values = {name: getattr(session, name) for name in SESSION_COLUMNS}
    values["state"] = session.state.value
    values["budget"] = _money(session.budget)
    return tuple(values[name] for name in SESSION_COLUMNS)


def session_from_row(row: Row) -> Session:
    values = {name: row[name] for name in SESSION_COLUMNS}
    values["state"] = SessionState(values["state"])
    values["budget"] = None if values["budget"] is None else Decimal(values["budget"])
    return Session(id=row["id"], version=row["version"], **values)


def entry_from_row(row: Row) -> Entry:
    return Entry(
        entry_id=row["entry_id"],
        session_id=row["session_id"],
        requester_id=row["requester_id"],
        video=row["video"],
        posted_at=row["posted_at"],
        removed_by=row["removed_by"],
        removed_at=row["removed_at"],
        votes=row["votes"],
        place=row["place"],
    )


def entry_row(entry: Entry) -> tuple[Any, ...]:
    return tuple(getattr(entry, name) for name in ENTRY_COLUMNS)


def entry_job_from_row(row: Row) -> EntryJob:
    times = json.loads(row["state_times"])
    return EntryJob(
        job_id=row["id"],
        requester_id=row["requester_id"],
        state=JobState(row["state"]),
        open=bool(row["is_open"]),
        estimated_cost=Decimal(row["estimated_cost"]),
        cost=None if row["cost"] is None else Decimal(row["cost"]),
        delivered_at=times.get(JobState.DELIVERED.value),
        deleted=row["deleted_by"] is not None,
    )


def leader_from_row(row: Row) -> LeaderRow:
    return LeaderRow(
        member_id=row["member_id"],
        wins=int(row["wins"] or 0),
        entries=int(row["entries"] or 0),
        votes=int(row["votes"] or 0),
    )


class SessionRows(Generic[D]):
    """The sessions' rows in `db`; what both databases do alike."""

    def __init__(self, db: D) -> None:
        self.db = db

    async def create(self, session: Session) -> Session | None:
        ids = await self.db.fetch(_CREATE, session_row(session), lambda row: int(row["id"]))
        return session.update(id=ids[0], version=1) if ids else None

    async def get(self, session_id: int) -> Session | None:
        found = await self._sessions("WHERE id = ?", (session_id,))
        return found[0] if found else None

    async def save(self, session: Session) -> Session | None:
        params = (*session_row(session), session.id, session.version)
        if await self.db.execute(_SAVE, params) != 1:
            return None
        return session.update(version=session.version + 1)

    async def open_in(self, channel_id: int) -> Session | None:
        found = await self._sessions(
            "WHERE state = 'open' AND (channel_id = ? OR thread_id = ?)", (channel_id, channel_id)
        )
        return found[0] if found else None

    async def latest_in(self, channel_id: int) -> Session | None:
        found = await self._sessions(
            f"WHERE {UNFINISHED} AND (channel_id = ? OR thread_id = ?) ORDER BY id DESC",
            (channel_id, channel_id),
        )
        return found[0] if found else None

    async def unfinished(self) -> list[Session]:
        return await self._sessions(f"WHERE {UNFINISHED} ORDER BY id", ())

    async def entry_jobs(self, session_id: int) -> list[EntryJob]:
        return await self.db.fetch(_ENTRY_JOBS, (session_id,), entry_job_from_row)

    async def record_entry(self, entry: Entry) -> None:
        await self.db.execute(_RECORD_ENTRY, entry_row(entry))

    async def entry(self, entry_id: int) -> Entry | None:
        found = await self.db.fetch(ENTRY, (entry_id,), entry_from_row)
        return found[0] if found else None

    async def entries(self, session_id: int) -> list[Entry]:
        return await self.db.fetch(
            "SELECT * FROM session_entries WHERE session_id = ? ORDER BY entry_id",
            (session_id,),
            entry_from_row,
        )

    async def entry_votes(self, entry_id: int) -> int:
        [count] = await self.db.fetch(ENTRY_VOTES, (entry_id,), lambda row: int(row["votes"]))
        return count

    async def vote_counts(self, session_id: int) -> Mapping[int, int]:
        rows = await self.db.fetch(
            VOTE_COUNTS, (session_id,), lambda row: (row["entry_id"], int(row["votes"]))
        )
        return dict(rows)

    async def votes_of(self, session_id: int, voter_id: int) -> int:
        [count] = await self.db.fetch(
            VOTER_VOTES, (session_id, voter_id), lambda row: int(row["votes"])
        )
        return count

    async def voters(self, session_id: int) -> int:
        [count] = await self.db.fetch(
            "SELECT count(DISTINCT voter_id) AS voters FROM session_votes WHERE session_id = ?",
            (session_id,),
            lambda row: int(row["voters"]),
        )
        return count

    async def leaders(self, guild_id: int) -> list[LeaderRow]:
        return await self.db.fetch(_LEADERS, (guild_id,), leader_from_row)

    async def _sessions(self, where: str, params: tuple[Any, ...]) -> list[Session]:
        return await self.db.fetch(f"SELECT * FROM sessions {where}", params, session_from_row)
