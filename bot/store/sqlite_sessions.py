"""Sessions in the bot's SQLite database: the shared rows (`bot.store.session_rows`), and
the writes that must see and change several rows at once, each one transaction on the
database's one thread (`BEGIN IMMEDIATE`), so nothing runs between its read and its
write."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from bot.sessions.model import SessionState
from bot.sessions.rules import VoteFacts, VoteOutcome
from bot.sessions.standings import Standing
from bot.store import session_rows as rows
from bot.store.sqlite import Database

T = TypeVar("T")


def _transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _count(conn: sqlite3.Connection, sql: str, *params: Any) -> int:
    return int(conn.execute(sql, params).fetchone()[0])


def _state(conn: sqlite3.Connection, session_id: int) -> SessionState | None:
    row = conn.execute(rows.SESSION_STATE, (session_id,)).fetchone()
    return None if row is None else SessionState(row["state"])


class SqliteSessionStore(rows.SessionRows[Database]):
    async def vote(
        self,
        entry_id: int,
        voter_id: int,
        *,
        at: float,
        decide: Callable[[VoteFacts], VoteOutcome],
    ) -> tuple[VoteOutcome, int | None, int, int]:
        def vote(conn: sqlite3.Connection) -> tuple[VoteOutcome, int | None, int, int]:
            found = conn.execute(rows.ENTRY, (entry_id,)).fetchone()
            entry = None if found is None else rows.entry_from_row(found)
            session_id = None if entry is None else entry.session_id
            state = None if session_id is None else _state(conn, session_id)
            voted = conn.execute(rows.HAS_VOTED, (entry_id, voter_id)).fetchone() is not None
            used = 0 if session_id is None else _count(conn, rows.VOTER_VOTES, session_id, voter_id)
            outcome = decide(VoteFacts(state, entry, voted, used))
            if outcome is VoteOutcome.COUNTED:
                conn.execute(rows.ADD_VOTE, (entry_id, voter_id, session_id, at))
                used += 1
            elif outcome is VoteOutcome.WITHDRAWN:
                conn.execute(rows.WITHDRAW_VOTE, (entry_id, voter_id))
                used -= 1
            return outcome, session_id, _count(conn, rows.ENTRY_VOTES, entry_id), used

        return await self.db.run(lambda conn: _transaction(conn, vote))

    async def remove_entry(self, entry_id: int, *, by: int, at: float) -> bool:
        def remove(conn: sqlite3.Connection) -> bool:
            found = conn.execute(rows.ENTRY, (entry_id,)).fetchone()
            if found is None:
                return False
            state = _state(conn, found["session_id"])
            if state is None or not state.takes_votes:
                return False
            if conn.execute(rows.REMOVE_ENTRY, (by, at, entry_id)).rowcount != 1:
                return False
            conn.execute(rows.DROP_VOTES, (entry_id,))
            return True

        return await self.db.run(lambda conn: _transaction(conn, remove))

    async def record_results(self, session_id: int, table: Sequence[Standing]) -> None:
        params = [(standing.votes, standing.place, standing.entry_id) for standing in table]

        def record(conn: sqlite3.Connection) -> None:
            conn.executemany(rows.RESULT, params)

        await self.db.run(lambda conn: _transaction(conn, record))
