"""A prompt session: its settings, where it is in its life, and one way to change it.

A session is open (members' videos made in its channel or its thread are entries), then
voting (entries are closed; votes still count), then recap (voting is over and one
process, the claimant, is posting the recap), then closed; an open or voting session can
be cancelled instead, without a recap. Every change goes through `Session.transition` or
`Session.update` and is written by the store only over the version it was made from, so
two processes can never both take the same step (whoever's write lands first took it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.jobs.model import FINAL_STATES, JobState

THEME_MAX_CHARS = 200
ENTRY_MINUTES = (5, 1440)
VOTE_MINUTES = (0, 1440)
DEFAULT_VOTE_MINUTES = 10
ENTRIES_PER_MEMBER = (1, 10)
DEFAULT_ENTRIES_PER_MEMBER = 1
BUDGET_RANGE = (Decimal("0.01"), Decimal("100000"))


class SessionState(StrEnum):
    OPEN = "open"
    """Taking entries (and votes for those already posted)."""
    VOTING = "voting"
    """Entries are closed; votes still count until voting closes."""
    RECAP = "recap"
    """Voting is over; the process named in `recap_owner` is posting the recap."""
    CLOSED = "closed"
    """The recap is posted; the results are kept for the leaderboard."""
    CANCELLED = "cancelled"
    """Ended by the host or a moderator without a recap."""

    @property
    def takes_votes(self) -> bool:
        return self in (SessionState.OPEN, SessionState.VOTING)

    @property
    def is_final(self) -> bool:
        return self in (SessionState.CLOSED, SessionState.CANCELLED)


UNFINISHED = frozenset({SessionState.OPEN, SessionState.VOTING, SessionState.RECAP})

ALLOWED: Mapping[SessionState, frozenset[SessionState]] = {
    SessionState.OPEN: frozenset({SessionState.VOTING, SessionState.CANCELLED}),
    SessionState.VOTING: frozenset({SessionState.RECAP, SessionState.CANCELLED}),
    SessionState.RECAP: frozenset({SessionState.CLOSED}),
    SessionState.CLOSED: frozenset(),
    SessionState.CANCELLED: frozenset(),
}


class InvalidSessionChange(Exception):
    def __init__(self, session_id: int, current: SessionState, target: SessionState) -> None:
        super().__init__(f"session {session_id}: {current} → {target} is not allowed")


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    guild_id: int
    channel_id: int
    host_id: int
    theme: str
    locale: str | None
    """The language of the session's public messages, chosen when it started."""
    state: SessionState
    created_at: float
    entries_close_at: float
    """The deadline set at the start (the tracker's clock, epoch seconds)."""
    vote_minutes: int
    entries_per_member: int
    budget: Decimal | None
    """USD the session's entries may cost, by their estimates; None: no budget."""
    thread_id: int | None = None
    card_message_id: int | None = None
    entries_closed_at: float | None = None
    ended_by: int | None = None
    """Who closed entries before the deadline (`/session end`)."""
    cancelled_by: int | None = None
    recap_owner: str | None = None
    recap_until: float | None = None
    """Until when the claimant holds the recap; after that another process may finish it."""
    recap_channel_message_id: int | None = None
    recap_thread_message_id: int | None = None
    closed_at: float | None = None
    version: int = 0
    """How many times the row was written; a write names the version it was made from."""

    @property
    def places(self) -> tuple[int, ...]:
        """Where its entries are made: the channel and, once open, the gallery thread."""
        return (self.channel_id,) if self.thread_id is None else (self.channel_id, self.thread_id)

    def transition(self, target: SessionState, **changes: Any) -> Session:
        if target not in ALLOWED[self.state]:
            raise InvalidSessionChange(self.id, self.state, target)
        return replace(self, state=target, **changes)

    def update(self, **changes: Any) -> Session:
        if "state" in changes:
            raise ValueError("use transition() to change the state")
        return replace(self, **changes)

    def voting_ends_at(self, last_delivered: float | None) -> float | None:
        """`vote_minutes` after entries closed or after the last accepted entry was
        delivered, whichever is later; None while entries are open."""
        if self.entries_closed_at is None:
            return None
        start = max(self.entries_closed_at, last_delivered or self.entries_closed_at)
        return start + self.vote_minutes * 60.0


@dataclass(frozen=True, slots=True)
class SessionDraft:
    """What `/session start` asks for; checked by `bot.sessions.rules.check_draft`."""

    guild_id: int
    channel_id: int
    host_id: int
    theme: str
    minutes: int
    vote_minutes: int = DEFAULT_VOTE_MINUTES
    entries_per_member: int = DEFAULT_ENTRIES_PER_MEMBER
    budget: Decimal | None = None
    locale: str | None = None

    def session(self, now: float) -> Session:
        return Session(
            id=0,
            guild_id=self.guild_id,
            channel_id=self.channel_id,
            host_id=self.host_id,
            theme=self.theme,
            locale=self.locale,
            state=SessionState.OPEN,
            created_at=now,
            entries_close_at=now + self.minutes * 60.0,
            vote_minutes=self.vote_minutes,
            entries_per_member=self.entries_per_member,
            budget=self.budget,
        )


NOT_COUNTED = frozenset({JobState.FAILED, JobState.CANCELLED})
"""An entry whose video was never made (it failed, or was cancelled before RunComfy had
it) does not use up the member's entries or the session's budget."""


@dataclass(frozen=True, slots=True)
class EntryJob:
    """A job made as an entry, as its row says now."""

    job_id: int
    requester_id: int
    state: JobState
    open: bool
    """The tracker still has work for it (its video or its notice is on the way)."""
    estimated_cost: Decimal
    cost: Decimal | None
    delivered_at: float | None
    deleted: bool

    @property
    def counts(self) -> bool:
        return self.state not in NOT_COUNTED

    @property
    def pending(self) -> bool:
        """Its video may still come, so voting waits for it. A job past its deadline
        (timed out) no longer holds voting up; if it comes later it is still posted."""
        return self.open and self.state is not JobState.TIMED_OUT and self.counts

    @property
    def spent(self) -> Decimal:
        """What it cost, or its estimate until RunComfy says."""
        return self.cost if self.cost is not None else self.estimated_cost


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry whose video was posted in the gallery (an entry's id is its job's)."""

    entry_id: int
    session_id: int
    requester_id: int
    video: str
    """What the posted message showed of the video (the Discord side's JSON), so that
    the message can be drawn again with a new vote count."""
    posted_at: float
    removed_by: int | None = None
    removed_at: float | None = None
    votes: int | None = None
    """The final count, written when voting closed."""
    place: int | None = None

    @property
    def removed(self) -> bool:
        return self.removed_by is not None


def last_delivered(jobs: list[EntryJob]) -> float | None:
    times = [job.delivered_at for job in jobs if job.delivered_at is not None]
    return max(times) if times else None


def finished(state: JobState) -> bool:
    return state in FINAL_STATES
