"""The rules of a session as plain functions: what a start may ask for, who may enter and
for how much, and what a press of a Vote button does. The store applies the vote rule
inside one transaction with the facts it read (`VoteFacts`), so two presses at once are
judged one after the other."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.jobs.line import LimitExceeded
from bot.sessions.model import (
    BUDGET_RANGE,
    ENTRIES_PER_MEMBER,
    ENTRY_MINUTES,
    THEME_MAX_CHARS,
    VOTE_MINUTES,
    Entry,
    Session,
    SessionDraft,
    SessionState,
)


class DraftProblem(StrEnum):
    """What `/session start` asked for that is not allowed; each has its sentence."""

    THEME = "theme"
    MINUTES = "minutes"
    VOTE_MINUTES = "vote_minutes"
    ENTRIES_PER_MEMBER = "entries_per_member"
    BUDGET = "budget"


def check_draft(draft: SessionDraft) -> DraftProblem | None:
    """The first thing out of range (Discord checks the same ranges, but a command can be
    sent by anything)."""
    theme = draft.theme.strip()
    if not theme or len(theme) > THEME_MAX_CHARS:
        return DraftProblem.THEME
    if not ENTRY_MINUTES[0] <= draft.minutes <= ENTRY_MINUTES[1]:
        return DraftProblem.MINUTES
    if not VOTE_MINUTES[0] <= draft.vote_minutes <= VOTE_MINUTES[1]:
        return DraftProblem.VOTE_MINUTES
    if not ENTRIES_PER_MEMBER[0] <= draft.entries_per_member <= ENTRIES_PER_MEMBER[1]:
        return DraftProblem.ENTRIES_PER_MEMBER
    budget = draft.budget
    if budget is not None and (
        not budget.is_finite() or not BUDGET_RANGE[0] <= budget <= BUDGET_RANGE[1]
    ):
        return DraftProblem.BUDGET
    return None


class EntryRefusal(StrEnum):
    CLOSED = "closed"
    """Entries closed between the command and its check."""
    TOO_MANY = "too_many"
    OVER_BUDGET = "over_budget"


class EntryRefused(LimitExceeded):
    """A video that would have been an entry was refused before anything was sent; the
    numbers are for the member's sentence."""

    def __init__(
        self,
        kind: EntryRefusal,
        *,
        theme: str,
        entered: int = 0,
        allowed: int = 0,
        estimate: Decimal = Decimal(0),
        left: Decimal = Decimal(0),
        budget: Decimal = Decimal(0),
    ) -> None:
        super().__init__(f"entry refused: {kind}")
        self.kind = kind
        self.theme = theme
        self.entered = entered
        self.allowed = allowed
        self.estimate = estimate
        self.left = left
        self.budget = budget


def check_entry(session: Session, *, entered: int, spent: Decimal, estimate: Decimal) -> None:
    """Raise `EntryRefused` unless the member may enter one more video costing about
    `estimate`: the session takes entries, the member has entered fewer than
    `entries_per_member`, and the estimates of the entries so far plus this one stay
    within the budget (an estimate is what the session counts, so a budget holds before
    anything is paid)."""
    if session.state is not SessionState.OPEN:
        raise EntryRefused(EntryRefusal.CLOSED, theme=session.theme)
    if entered >= session.entries_per_member:
        raise EntryRefused(
            EntryRefusal.TOO_MANY,
            theme=session.theme,
            entered=entered,
            allowed=session.entries_per_member,
        )
    budget = session.budget
    if budget is not None and spent + estimate > budget:
        raise EntryRefused(
            EntryRefusal.OVER_BUDGET,
            theme=session.theme,
            estimate=estimate,
            left=max(budget - spent, Decimal(0)),
            budget=budget,
        )


class VoteOutcome(StrEnum):
    COUNTED = "counted"
    WITHDRAWN = "withdrawn"
    NOT_AN_ENTRY = "not_an_entry"
    """Removed, or not (or no longer) an entry of a session."""
    VOTING_OVER = "voting_over"
    OWN_ENTRY = "own_entry"
    NO_VOTES_LEFT = "no_votes_left"

    @property
    def changed(self) -> bool:
        return self in (VoteOutcome.COUNTED, VoteOutcome.WITHDRAWN)


@dataclass(frozen=True, slots=True)
class VoteFacts:
    """What the store read, inside the vote's transaction."""

    state: SessionState | None
    """The entry's session's state (None: no such session)."""
    entry: Entry | None
    voted: bool
    """The voter already voted for this entry."""
    used: int
    """Votes the voter has in this session."""


def decide_vote(facts: VoteFacts, *, voter_id: int, limit: int) -> VoteOutcome:
    """Pressing again withdraws; a member votes for at most `limit` entries, never their
    own, and only while the session takes votes."""
    entry = facts.entry
    if entry is None or entry.removed or facts.state is None:
        return VoteOutcome.NOT_AN_ENTRY
    if not facts.state.takes_votes:
        return VoteOutcome.VOTING_OVER
    if facts.voted:
        return VoteOutcome.WITHDRAWN
    if entry.requester_id == voter_id:
        return VoteOutcome.OWN_ENTRY
    if facts.used >= limit:
        return VoteOutcome.NO_VOTES_LEFT
    return VoteOutcome.COUNTED


@dataclass(frozen=True, slots=True)
class VoteResult:
    outcome: VoteOutcome
    entry_id: int
    session_id: int | None
    votes: int
    """The entry's count after the press."""
    used: int
    """The voter's votes in the session after the press."""
    limit: int
