"""What the sessions need from the database and from Discord, as small interfaces.

`bot.store` implements `SessionStorage` on SQLite and PostgreSQL (a refused read or write
is `bot.jobs.ports.StoreError`, as for jobs); the Discord side implements `Herald`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from enum import StrEnum
from typing import Protocol

from bot.sessions.model import Entry, EntryJob, Session
from bot.sessions.rules import VoteFacts, VoteOutcome
from bot.sessions.standings import LeaderRow, Recap, Standing


class SessionStorage(Protocol):
    async def create(self, session: Session) -> Session | None:
        """Store a new open session; None when the channel already has one open."""

    async def get(self, session_id: int) -> Session | None: ...

    async def save(self, session: Session) -> Session | None:
        """Write the session over the version it was read at; the written session (its
        version one up), or None when another write landed first (read it again)."""

    async def open_in(self, channel_id: int) -> Session | None:
        """The open session whose channel or thread this is."""

    async def latest_in(self, channel_id: int) -> Session | None:
        """The newest unfinished session whose channel or thread this is."""

    async def unfinished(self) -> list[Session]: ...

    async def entry_jobs(self, session_id: int) -> list[EntryJob]:
        """Every job made as an entry of the session, whatever became of it."""

    async def record_entry(self, entry: Entry) -> None:
        """Keep a posted entry (again: the first record stands)."""

    async def entry(self, entry_id: int) -> Entry | None: ...

    async def entries(self, session_id: int) -> list[Entry]: ...

    async def vote(
        self,
        entry_id: int,
        voter_id: int,
        *,
        at: float,
        decide: Callable[[VoteFacts], VoteOutcome],
    ) -> tuple[VoteOutcome, int | None, int, int]:
        """In one transaction: read the facts, `decide`, and add or withdraw the vote.
        Returns the outcome, the session's id, the entry's votes and the voter's votes
        in the session, as they are after it."""

    async def entry_votes(self, entry_id: int) -> int: ...

    async def vote_counts(self, session_id: int) -> Mapping[int, int]:
        """Votes per entry."""

    async def votes_of(self, session_id: int, voter_id: int) -> int: ...

    async def voters(self, session_id: int) -> int:
        """How many members voted."""

    async def remove_entry(self, entry_id: int, *, by: int, at: float) -> bool:
        """Mark the entry removed and delete its votes (its voters get them back);
        False when it was removed already."""

    async def record_results(self, session_id: int, table: Sequence[Standing]) -> None:
        """Each entry's final votes and place (the same table again changes nothing)."""

    async def leaders(self, guild_id: int) -> list[LeaderRow]:
        """Per member, over the server's sessions whose results are final (voting is over
        and they were recorded): wins, entries, votes received."""


IntakeHold = Callable[[int | None], AbstractAsyncContextManager[None]]
"""Holds the tracker's intake for a server: no new job is taken in meanwhile, so entries
close between two jobs, never during one."""


class RecapPlace(StrEnum):
    CHANNEL = "channel"
    THREAD = "thread"


class HeraldUnavailable(Exception):
    """Members could not be shown something just now (Discord is down or refused for a
    while); whatever was being done is tried again later."""


class Herald(Protocol):
    """What members see of a session: its card, the recap, the Vote buttons."""

    def session_changed(self, session: Session) -> None:
        """Bring the session card up to date (coalesced; returns at once)."""

    async def post_recap(self, recap: Recap, place: RecapPlace) -> int | None:
        """Post the recap in the channel or the thread, unless an earlier copy is found
        there; the message's id (None when the place is gone for good)."""

    async def votes_closed(self, session: Session) -> None:
        """Disable the Vote buttons of the session's entries."""
