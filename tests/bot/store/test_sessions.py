"""Sessions, entries and votes in SQLite and PostgreSQL alike: one open session per
channel, writes over a version only, the vote rule applied inside one transaction (also
with presses at once), removals, results and the leaderboard."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from bot.jobs.model import JobState, NoticeState
from bot.sessions.model import Entry, Session, SessionDraft, SessionState
from bot.sessions.rules import VoteFacts, VoteOutcome, decide_vote
from bot.sessions.standings import LeaderRow, standings
from bot.store.opening import Storage
from tests.bot.jobs.factories import make_job

GUILD, CHANNEL, THREAD, HOST = 2**60, 2**61, 2**61 + 1, 7


def draft(channel: int = CHANNEL, **changes: object) -> SessionDraft:
    fields: dict[str, object] = {
        "guild_id": GUILD,
        "channel_id": channel,
        "host_id": HOST,
        "theme": "Winter foxes ❄️",
        "minutes": 30,
        "budget": Decimal("12.50"),
        "locale": "de",
    }
    fields.update(changes)
    return SessionDraft(**fields)  # type: ignore[arg-type]


async def started(storage: Storage, channel: int = CHANNEL) -> Session:
    session = await storage.sessions.create(draft(channel).session(1000.0))
    assert session is not None
    saved = await storage.sessions.save(session.update(thread_id=THREAD, card_message_id=THREAD))
    assert saved is not None
    return saved


async def entry_job(storage: Storage, session: Session, requester: int, **changes: object) -> int:
    job = make_job(0, requester_id=requester, guild_id=GUILD, session_id=session.id, **changes)
    return (await storage.jobs.insert(job)).id


async def posted(storage: Storage, session: Session, requester: int) -> int:
    job_id = await entry_job(storage, session, requester)
    entry = Entry(job_id, session.id, requester, '{"attached": true}', 1100.0)
    await storage.sessions.record_entry(entry)
    return job_id


async def press(storage: Storage, entry_id: int, voter: int, limit: int = 3) -> VoteOutcome:
    outcome, _, _, _ = await storage.sessions.vote(
        entry_id,
        voter,
        at=1200.0,
        decide=lambda facts: decide_vote(facts, voter_id=voter, limit=limit),
    )
    return outcome


async def test_a_session_round_trips_and_one_is_open_per_channel(storage: Storage) -> None:
    sessions = storage.sessions
    session = await started(storage)
    assert await sessions.get(session.id) == session
    assert (session.theme, session.budget, session.locale, session.version) == (
        "Winter foxes ❄️",
        Decimal("12.50"),
        "de",
        2,
    )
    assert await sessions.create(draft().session(1001.0)) is None, "one open per channel"
    assert await sessions.open_in(CHANNEL) == session
    assert await sessions.open_in(THREAD) == session
    assert await sessions.open_in(CHANNEL + 5) is None
    voting = await sessions.save(session.transition(SessionState.VOTING, entries_closed_at=1500))
    assert voting is not None
    assert await sessions.open_in(CHANNEL) is None
    assert await sessions.latest_in(THREAD) == voting
    second = await sessions.create(draft().session(1600.0))
    assert second is not None, "voting is not open: a new session may start"
    assert [s.id for s in await sessions.unfinished()] == [session.id, second.id]


async def test_a_write_over_an_old_version_is_refused(storage: Storage) -> None:
    session = await started(storage)
    first = await storage.sessions.save(session.transition(SessionState.VOTING))
    second = await storage.sessions.save(session.transition(SessionState.CANCELLED))
    assert first is not None
    assert second is None
    assert (await storage.sessions.get(session.id)) == first


async def test_entry_jobs_are_the_jobs_made_for_the_session(storage: Storage) -> None:
    session = await started(storage)
    other = await started(storage, channel=CHANNEL + 1)
    first = await entry_job(storage, session, 1)
    job = await storage.jobs.get(first)
    assert job is not None
    assert job.session_id == session.id
    failed = await entry_job(storage, session, 2, state=JobState.FAILED)
    await entry_job(storage, other, 1)
    times = {JobState.NEW: 1000.0, JobState.DELIVERED: 1234.5}
    delivered = make_job(
        0,
        requester_id=3,
        guild_id=GUILD,
        session_id=session.id,
        state=JobState.DELIVERED,
        state_times=times,
        notice=NoticeState.SENT,
        cost=Decimal("0.84"),
    )
    delivered = await storage.jobs.insert(delivered)
    jobs = {job.job_id: job for job in await storage.sessions.entry_jobs(session.id)}
    assert sorted(jobs) == [first, failed, delivered.id]
    assert (jobs[first].counts, jobs[failed].counts) == (True, False)
    assert jobs[delivered.id].delivered_at == 1234.5
    assert jobs[delivered.id].spent == Decimal("0.84")
    assert jobs[first].spent == Decimal("0.63")


async def test_votes_follow_the_rule_and_count(storage: Storage) -> None:
    sessions = storage.sessions
    session = await started(storage)
    entries = [await posted(storage, session, requester) for requester in (1, 2, 3, 4)]
    await sessions.record_entry(Entry(entries[0], session.id, 99, "{}", 1.0))
    assert (await sessions.entry(entries[0])).requester_id == 1, "the first record stands"
    assert await press(storage, entries[0], 1) is VoteOutcome.OWN_ENTRY
    assert [await press(storage, e, 5) for e in entries[:3]] == [VoteOutcome.COUNTED] * 3
    assert await press(storage, entries[3], 5) is VoteOutcome.NO_VOTES_LEFT
    assert await press(storage, entries[1], 5) is VoteOutcome.WITHDRAWN
    assert await press(storage, entries[3], 5) is VoteOutcome.COUNTED
    assert await press(storage, entries[0], 6) is VoteOutcome.COUNTED
    outcome, session_id, votes, used = await sessions.vote(
        entries[0], 7, at=1.0, decide=lambda facts: decide_vote(facts, voter_id=7, limit=3)
    )
    assert (outcome, session_id, votes, used) == (VoteOutcome.COUNTED, session.id, 3, 1)
    assert await sessions.vote_counts(session.id) == {entries[0]: 3, entries[2]: 1, entries[3]: 1}
    assert (await sessions.votes_of(session.id, 5), await sessions.voters(session.id)) == (3, 3)
    assert await press(storage, 424242, 5) is VoteOutcome.NOT_AN_ENTRY
    await sessions.save(session.transition(SessionState.VOTING))
    assert await press(storage, entries[1], 6) is VoteOutcome.COUNTED, "voting still counts"
    voting = await sessions.get(session.id)
    await sessions.save(voting.transition(SessionState.RECAP, recap_owner="me"))
    assert await press(storage, entries[1], 7) is VoteOutcome.VOTING_OVER
    assert await press(storage, entries[0], 7) is VoteOutcome.VOTING_OVER, "nor withdrawn"


async def test_presses_at_once_cannot_pass_the_limit(storage: Storage) -> None:
    session = await started(storage)
    entries = [await posted(storage, session, requester) for requester in range(1, 9)]
    outcomes = await asyncio.gather(*(press(storage, entry, 50, limit=3) for entry in entries))
    assert sorted(outcomes).count(VoteOutcome.COUNTED) == 3
    assert outcomes.count(VoteOutcome.NO_VOTES_LEFT) == 5
    assert await storage.sessions.votes_of(session.id, 50) == 3


async def test_a_removed_entry_loses_its_votes_and_place(storage: Storage) -> None:
    sessions = storage.sessions
    session = await started(storage)
    kept, removed = await posted(storage, session, 1), await posted(storage, session, 2)
    for voter in (10, 11):
        await press(storage, removed, voter)
    await press(storage, kept, 10)
    assert await sessions.remove_entry(removed, by=HOST, at=1300.0)
    assert not await sessions.remove_entry(removed, by=HOST, at=1301.0), "once"
    assert await sessions.vote_counts(session.id) == {kept: 1}
    assert await sessions.votes_of(session.id, 11) == 0, "the voter has the vote back"
    assert await press(storage, removed, 12) is VoteOutcome.NOT_AN_ENTRY
    table = standings(await sessions.entries(session.id), await sessions.vote_counts(session.id))
    assert [s.entry_id for s in table] == [kept]
    closed = await sessions.save(session.transition(SessionState.CANCELLED))
    assert closed is not None
    assert not await sessions.remove_entry(kept, by=HOST, at=1400.0), "not after it ended"


async def test_final_results_make_the_leaderboard(storage: Storage) -> None:
    """Results count once voting is over (recap or closed), not while it goes on."""
    sessions = storage.sessions
    last: Session | None = None
    for round_ in range(2):
        session = await started(storage)
        ids = [await posted(storage, session, requester) for requester in (1, 2, 3)]
        for voter, entry in ((10, ids[0]), (11, ids[0]), (12, ids[1]), (13, ids[1 + round_])):
            await press(storage, entry, voter)
        table = standings(
            await sessions.entries(session.id), await sessions.vote_counts(session.id)
        )
        await sessions.record_results(session.id, table)
        await sessions.record_results(session.id, table)
        current = await sessions.get(session.id)
        last = await sessions.save(current.transition(SessionState.VOTING))
        if round_ == 0:
            recap = await sessions.save(last.transition(SessionState.RECAP))
            await sessions.save(recap.transition(SessionState.CLOSED))
        assert {e.entry_id: (e.votes, e.place) for e in await sessions.entries(session.id)} == (
            {ids[0]: (2, 1), ids[1]: (2, 1), ids[2]: (0, 3)}
            if round_ == 0
            else {ids[0]: (2, 1), ids[1]: (1, 2), ids[2]: (1, 2)}
        )
    leaders = {row.member_id: row for row in await sessions.leaders(GUILD)}
    assert leaders == {
        1: LeaderRow(1, wins=1, entries=1, votes=2),
        2: LeaderRow(2, wins=1, entries=1, votes=2),
        3: LeaderRow(3, wins=0, entries=1, votes=0),
    }, "only the session whose voting is over counts"
    assert await sessions.leaders(GUILD + 1) == []
    assert last is not None
    await sessions.save(last.transition(SessionState.RECAP))
    leaders = {row.member_id: row for row in await sessions.leaders(GUILD)}
    assert leaders[1] == LeaderRow(1, wins=2, entries=2, votes=4)
    assert leaders[2] == LeaderRow(2, wins=1, entries=2, votes=3)


async def test_vote_facts_reach_the_rule(storage: Storage) -> None:
    session = await started(storage)
    entry_id = await posted(storage, session, 1)
    seen: list[VoteFacts] = []

    def decide(facts: VoteFacts) -> VoteOutcome:
        seen.append(facts)
        return VoteOutcome.OWN_ENTRY

    await storage.sessions.vote(entry_id, 2, at=1.0, decide=decide)
    [facts] = seen
    assert (facts.state, facts.voted, facts.used) == (SessionState.OPEN, False, 0)
    assert facts.entry is not None
    assert facts.entry.requester_id == 1
