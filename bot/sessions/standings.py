"""Who won: places from votes (ties share a place), what the recap says, and the
server's leaderboard over every closed session."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from bot.sessions.model import Entry, EntryJob, Session

PODIUM = 3
"""The recap shows the entries placed first to third."""


@dataclass(frozen=True, slots=True)
class Standing:
    entry_id: int
    requester_id: int
    votes: int
    place: int
    """1 for the most votes; entries with as many votes share a place, and the next place
    counts them (1, 1, 3), as a contest's table does."""

    @property
    def wins(self) -> bool:
        """A winner is placed first with at least one vote: a session nobody voted in
        has no winner."""
        return self.place == 1 and self.votes > 0


def standings(entries: Iterable[Entry], counts: Mapping[int, int]) -> list[Standing]:
    """Every entry that was not removed, best first (by votes, then the earlier entry)."""
    ranked = sorted(
        (entry for entry in entries if not entry.removed),
        key=lambda entry: (-counts.get(entry.entry_id, 0), entry.entry_id),
    )
    table: list[Standing] = []
    for index, entry in enumerate(ranked):
        votes = counts.get(entry.entry_id, 0)
        place = table[-1].place if table and table[-1].votes == votes else index + 1
        table.append(Standing(entry.entry_id, entry.requester_id, votes, place))
    return table


@dataclass(frozen=True, slots=True)
class Recap:
    """Everything the recap says, decided once voting is over."""

    session: Session
    table: tuple[Standing, ...]
    voters: int
    total_cost: Decimal
    """What the entries cost (their estimate where RunComfy has not said)."""

    @property
    def winners(self) -> list[Standing]:
        return [standing for standing in self.table if standing.wins]

    @property
    def podium(self) -> list[Standing]:
        """Places one to three, among entries with votes."""
        return [s for s in self.table if s.place <= PODIUM and s.votes > 0]

    @property
    def entries(self) -> int:
        return len(self.table)


def recap_of(
    session: Session,
    entries: Iterable[Entry],
    counts: Mapping[int, int],
    voters: int,
    jobs: Iterable[EntryJob],
) -> Recap:
    total = sum((job.spent for job in jobs if job.counts), Decimal(0))
    return Recap(session, tuple(standings(entries, counts)), voters, total)


@dataclass(frozen=True, slots=True)
class LeaderRow:
    member_id: int
    wins: int
    entries: int
    votes: int
    """Votes received, over every closed session of the server."""


def leaderboard(rows: Iterable[LeaderRow], limit: int) -> list[LeaderRow]:
    """Most wins first, then most votes received, then most entries."""
    ordered = sorted(rows, key=lambda row: (-row.wins, -row.votes, -row.entries, row.member_id))
    return ordered[:limit]
