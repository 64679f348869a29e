"""Sessions in PostgreSQL, shared by several processes: the shared rows
(`bot.store.session_rows`), and the writes that must see and change several rows at once,
each one transaction. A vote or a removal locks its session's row for share, so it
waits for (and then sees) a change of the session's state: once voting is over in one
process, no vote is counted in another. A voter's presses are taken one at a time (an
advisory lock per voter), so two at once cannot both take a last vote."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.sessions.model import SessionState
from bot.sessions.rules import VoteFacts, VoteOutcome
from bot.sessions.standings import Standing
from bot.store import session_rows as rows
from bot.store.dialect import numbered
from bot.store.postgres import PgDatabase

VOTER_LOCK = 0x6B7376
"""With a voter's id (folded into 31 bits): held while one of their presses is counted."""
_LOCK_VOTER = "SELECT pg_advisory_xact_lock($1, $2)"
_LOCK_SESSION = "SELECT state FROM sessions WHERE id = $1 FOR SHARE"


async def _locked_state(conn: Any, session_id: int) -> SessionState | None:
    state = await conn.fetchval(_LOCK_SESSION, session_id)
    return None if state is None else SessionState(state)


async def _count(conn: Any, sql: str, *params: Any) -> int:
    return int(await conn.fetchval(numbered(sql), *params))


class PgSessionStore(rows.SessionRows[PgDatabase]):
    async def vote(
        self,
        entry_id: int,
        voter_id: int,
        *,
        at: float,
        decide: Callable[[VoteFacts], VoteOutcome],
    ) -> tuple[VoteOutcome, int | None, int, int]:
        async def vote(conn: Any) -> tuple[VoteOutcome, int | None, int, int]:
            async with conn.transaction():
                found = await conn.fetchrow(numbered(rows.ENTRY), entry_id)
                entry = None if found is None else rows.entry_from_row(found)
                session_id = None if entry is None else entry.session_id
                state = None if session_id is None else await _locked_state(conn, session_id)
                await conn.execute(
                    "SELECT pg_advisory_xact_lock($1, $2)", VOTER_LOCK, voter_id % 2**31
                )
                voted = await conn.fetchval(numbered(rows.HAS_VOTED), entry_id, voter_id)
                used = 0
                if session_id is not None:
                    used = await _count(conn, rows.VOTER_VOTES, session_id, voter_id)
                outcome = decide(VoteFacts(state, entry, voted is not None, used))
                if outcome is VoteOutcome.COUNTED:
                    await conn.execute(numbered(rows.ADD_VOTE), entry_id, voter_id, session_id, at)
                    used += 1
                elif outcome is VoteOutcome.WITHDRAWN:
                    await conn.execute(numbered(rows.WITHDRAW_VOTE), entry_id, voter_id)
                    used -= 1
                votes = await _count(conn, rows.ENTRY_VOTES, entry_id)
                return outcome, session_id, votes, used

        return await self.db.run(vote)

    async def remove_entry(self, entry_id: int, *, by: int, at: float) -> bool:
        async def remove(conn: Any) -> bool:
            async with conn.transaction():
                found = await conn.fetchrow(numbered(rows.ENTRY), entry_id)
                if found is None:
                    return False
                state = await _locked_state(conn, found["session_id"])
                if state is None or not state.takes_votes:
                    return False
                status: str = await conn.execute(numbered(rows.REMOVE_ENTRY), by, at, entry_id)
                if status != "UPDATE 1":
                    return False
                await conn.execute(numbered(rows.DROP_VOTES), entry_id)
                return True

        return await self.db.run(remove)

    async def record_results(self, session_id: int, table: Sequence[Standing]) -> None:
        params = [(standing.votes, standing.place, standing.entry_id) for standing in table]

        async def record(conn: Any) -> None:
            async with conn.transaction():
                await conn.executemany(numbered(rows.RESULT), params)

        await self.db.run(record)
