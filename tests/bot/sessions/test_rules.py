"""The session's rules as plain functions: a start's ranges, entries and the budget, the
vote rule, places with ties, and the leaderboard's order."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bot.jobs.model import JobState
from bot.sessions.model import (
    Entry,
    EntryJob,
    InvalidSessionChange,
    SessionDraft,
    SessionState,
    last_delivered,
)
from bot.sessions.rules import (
    DraftProblem,
    EntryRefusal,
    EntryRefused,
    VoteFacts,
    VoteOutcome,
    check_draft,
    check_entry,
    decide_vote,
)
from bot.sessions.standings import LeaderRow, leaderboard, recap_of, standings

DRAFT = SessionDraft(guild_id=1, channel_id=2, host_id=3, theme="foxes", minutes=30)


def entry(entry_id: int, requester: int = 1, *, removed: bool = False) -> Entry:
    return Entry(entry_id, 9, requester, "{}", 1.0, removed_by=5 if removed else None)


def job(state: JobState = JobState.DELIVERED, **changes: object) -> EntryJob:
    fields: dict[str, object] = {
        "job_id": 1,
        "requester_id": 1,
        "state": state,
        "open": False,
        "estimated_cost": Decimal("0.50"),
        "cost": None,
        "delivered_at": None,
        "deleted": False,
    }
    fields.update(changes)
    return EntryJob(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({}, None),
        ({"theme": "x" * 200}, None),
        ({"theme": "x" * 201}, DraftProblem.THEME),
        ({"theme": "   "}, DraftProblem.THEME),
        ({"minutes": 4}, DraftProblem.MINUTES),
        ({"minutes": 1441}, DraftProblem.MINUTES),
        ({"vote_minutes": 0}, None),
        ({"vote_minutes": -1}, DraftProblem.VOTE_MINUTES),
        ({"entries_per_member": 11}, DraftProblem.ENTRIES_PER_MEMBER),
        ({"budget": Decimal("0")}, DraftProblem.BUDGET),
        ({"budget": Decimal("NaN")}, DraftProblem.BUDGET),
        ({"budget": Decimal("0.01")}, None),
    ],
)
def test_a_start_asks_for_what_is_allowed(changes: dict[str, object], problem: object) -> None:
    assert check_draft(replace(DRAFT, **changes)) == problem  # type: ignore[arg-type]


def test_a_session_moves_only_forward() -> None:
    session = DRAFT.session(1000.0)
    assert session.entries_close_at == 1000.0 + 30 * 60
    voting = session.transition(SessionState.VOTING, entries_closed_at=1500.0)
    with pytest.raises(InvalidSessionChange):
        voting.transition(SessionState.OPEN)
    with pytest.raises(InvalidSessionChange):
        voting.transition(SessionState.CLOSED)
    with pytest.raises(ValueError, match="transition"):
        voting.update(state=SessionState.CLOSED)
    assert voting.transition(SessionState.CANCELLED).state is SessionState.CANCELLED


def test_voting_closes_after_entries_close_or_the_last_delivery_whichever_is_later() -> None:
    session = DRAFT.session(0.0)
    assert session.voting_ends_at(None) is None
    voting = session.transition(SessionState.VOTING, entries_closed_at=1800.0)
    assert voting.voting_ends_at(None) == 1800.0 + 600
    assert voting.voting_ends_at(1700.0) == 1800.0 + 600
    assert voting.voting_ends_at(2000.0) == 2000.0 + 600
    jobs = [job(delivered_at=5.0), job(delivered_at=9.0), job(delivered_at=None)]
    assert last_delivered(jobs) == 9.0


def test_what_an_entry_job_counts_for() -> None:
    assert job(JobState.FAILED).counts is False
    assert job(JobState.CANCELLED).counts is False
    assert job(JobState.RUNNING, open=True).pending
    assert not job(JobState.TIMED_OUT, open=True).pending, "a late video does not hold voting"
    assert job(cost=Decimal("0.84")).spent == Decimal("0.84")
    assert job().spent == Decimal("0.50")


def test_entries_per_member_and_the_budget_are_checked_with_numbers() -> None:
    session = DRAFT.session(0.0).update(entries_per_member=2, budget=Decimal("2.00"))
    check_entry(session, entered=1, spent=Decimal("1.00"), estimate=Decimal("1.00"))
    with pytest.raises(EntryRefused) as too_many:
        check_entry(session, entered=2, spent=Decimal(0), estimate=Decimal("0.10"))
    assert (too_many.value.kind, too_many.value.entered, too_many.value.allowed) == (
        EntryRefusal.TOO_MANY,
        2,
        2,
    )
    with pytest.raises(EntryRefused) as over:
        check_entry(session, entered=0, spent=Decimal("1.50"), estimate=Decimal("0.84"))
    assert (over.value.kind, over.value.estimate, over.value.left) == (
        EntryRefusal.OVER_BUDGET,
        Decimal("0.84"),
        Decimal("0.50"),
    )
    closed = session.transition(SessionState.VOTING)
    with pytest.raises(EntryRefused) as late:
        check_entry(closed, entered=0, spent=Decimal(0), estimate=Decimal("0.10"))
    assert late.value.kind is EntryRefusal.CLOSED


@pytest.mark.parametrize(
    ("facts", "voter", "outcome"),
    [
        (VoteFacts(SessionState.OPEN, entry(1, 2), False, 0), 1, VoteOutcome.COUNTED),
        (VoteFacts(SessionState.VOTING, entry(1, 2), False, 2), 1, VoteOutcome.COUNTED),
        (VoteFacts(SessionState.VOTING, entry(1, 2), False, 3), 1, VoteOutcome.NO_VOTES_LEFT),
        (VoteFacts(SessionState.VOTING, entry(1, 2), True, 3), 1, VoteOutcome.WITHDRAWN),
        (VoteFacts(SessionState.OPEN, entry(1, 1), False, 0), 1, VoteOutcome.OWN_ENTRY),
        (VoteFacts(SessionState.RECAP, entry(1, 2), True, 1), 1, VoteOutcome.VOTING_OVER),
        (VoteFacts(SessionState.CANCELLED, entry(1, 2), False, 0), 1, VoteOutcome.VOTING_OVER),
        (
            VoteFacts(SessionState.OPEN, entry(1, 2, removed=True), True, 1),
            1,
            VoteOutcome.NOT_AN_ENTRY,
        ),
        (VoteFacts(None, None, False, 0), 1, VoteOutcome.NOT_AN_ENTRY),
    ],
)
def test_the_vote_rule(facts: VoteFacts, voter: int, outcome: VoteOutcome) -> None:
    assert decide_vote(facts, voter_id=voter, limit=3) is outcome


def test_ties_share_a_place_and_the_next_place_counts_them() -> None:
    entries = [entry(i, requester=i) for i in range(1, 7)] + [entry(7, removed=True)]
    counts = {1: 3, 2: 5, 3: 5, 4: 1, 5: 0, 7: 9}
    table = standings(entries, counts)
    assert [(s.entry_id, s.votes, s.place) for s in table] == [
        (2, 5, 1),
        (3, 5, 1),
        (1, 3, 3),
        (4, 1, 4),
        (5, 0, 5),
        (6, 0, 5),
    ]
    recap = recap_of(
        DRAFT.session(0.0), entries, counts, voters=4, jobs=[job(), job(JobState.FAILED)]
    )
    assert [s.entry_id for s in recap.winners] == [2, 3]
    assert [s.entry_id for s in recap.podium] == [2, 3, 1]
    assert (recap.entries, recap.total_cost) == (6, Decimal("0.50"))


def test_nobody_wins_a_session_without_votes() -> None:
    table = standings([entry(1), entry(2)], {})
    assert [s.place for s in table] == [1, 1]
    recap = recap_of(DRAFT.session(0.0), [entry(1), entry(2)], {}, voters=0, jobs=[])
    assert recap.winners == []
    assert recap.podium == []


def test_the_leaderboard_orders_by_wins_then_votes_then_entries() -> None:
    rows = [
        LeaderRow(1, 0, 9, 9),
        LeaderRow(2, 2, 1, 3),
        LeaderRow(3, 2, 2, 5),
        LeaderRow(4, 0, 3, 9),
    ]
    assert [row.member_id for row in leaderboard(rows, 3)] == [3, 2, 1]
