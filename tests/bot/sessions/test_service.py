"""The sessions service on a real store: entries admitted under the intake, deadlines
that close entries and voting, the recap claimed and posted once (also by two services
at once, and after a claimant died), cancel, and the timer that keeps the deadlines."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from bot.jobs.model import JobState, NoticeState
from bot.sessions.model import Entry, Session, SessionDraft, SessionState
from bot.sessions.ports import RecapPlace
from bot.sessions.rules import EntryRefusal, EntryRefused, VoteOutcome
from bot.sessions.service import Sessions, SessionSettings
from bot.sessions.standings import Recap
from bot.sessions.timer import SessionTimer
from bot.store.opening import Storage
from testkit.runcomfy.clock import ManualClock
from tests.bot.jobs.factories import make_job
from tests.bot.store.backends import StoreBackend

GUILD, CHANNEL, THREAD = 5, 50, 51


@dataclass
class Herald:
    changed: list[SessionState] = field(default_factory=list)
    recaps: list[tuple[RecapPlace, Recap]] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    fail_thread: bool = False

    def session_changed(self, session: Session) -> None:
        self.changed.append(session.state)

    async def post_recap(self, recap: Recap, place: RecapPlace) -> int | None:
        if place is RecapPlace.THREAD and self.fail_thread:
            raise RuntimeError("Discord is down")
        self.recaps.append((place, recap))
        return 1000 + len(self.recaps)

    async def votes_closed(self, session: Session) -> None:
        self.closed.append(session.id)


@dataclass
class Intake:
    held: list[int | None] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def hold(self, guild_id: int | None) -> AsyncIterator[None]:
        self.held.append(guild_id)
        yield


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    backend = StoreBackend("sqlite", f"sqlite:///{tmp_path / 'bot.sqlite3'}", tmp_path)
    storage = await backend.open()
    yield storage
    await storage.close()


def service(
    storage: Storage, clock: ManualClock, *, owner: str = "a", shared: bool = False
) -> tuple[Sessions, Herald, Intake]:
    herald, intake = Herald(), Intake()
    sessions = Sessions(
        storage.sessions, clock=clock, intake=intake.hold, owner=owner, shared=shared
    )
    sessions._herald = herald  # the timer is not started: the tests call advance
    return sessions, herald, intake


async def open_session(sessions: Sessions, **changes: object) -> Session:
    fields: dict[str, object] = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "host_id": 1,
        "theme": "foxes",
        "minutes": 10,
        "vote_minutes": 5,
    }
    fields.update(changes)
    session = await sessions.begin(SessionDraft(**fields))  # type: ignore[arg-type]
    assert session is not None
    return await sessions.gallery_opened(session, card=CHANNEL + 1000, thread=THREAD)


async def entry(
    storage: Storage, session: Session, requester: int, at: float, state: JobState
) -> int:
    times = {JobState.NEW: at, state: at}
    notice = NoticeState.SENT if state is JobState.DELIVERED else NoticeState.NOT_DUE
    job = make_job(
        0,
        requester_id=requester,
        guild_id=GUILD,
        session_id=session.id,
        state=state,
        state_times=times,
        notice=notice,
    )
    job = await storage.jobs.insert(job)
    if state is JobState.DELIVERED:
        await storage.sessions.record_entry(Entry(job.id, session.id, requester, "{}", at))
    return job.id


async def test_entries_are_admitted_by_member_and_budget(storage: Storage) -> None:
    clock = ManualClock()
    sessions, _, _ = service(storage, clock)
    session = await open_session(sessions, entries_per_member=2, budget=Decimal("1.50"))
    assert await sessions.begin(SessionDraft(GUILD, CHANNEL, 2, "again", 10)) is None
    check = sessions.admission(session.id, requester_id=7)
    await check(Decimal("0.63"))
    await entry(storage, session, 7, clock.now(), JobState.RUNNING)
    await entry(storage, session, 7, clock.now(), JobState.FAILED)
    await check(Decimal("0.63"))
    with pytest.raises(EntryRefused) as budget:
        await check(Decimal("0.90"))
    assert budget.value.kind is EntryRefusal.OVER_BUDGET
    assert budget.value.left == Decimal("0.87")
    await entry(storage, session, 7, clock.now(), JobState.WAITING)
    with pytest.raises(EntryRefused) as many:
        await check(Decimal("0.10"))
    assert many.value.kind is EntryRefusal.TOO_MANY
    stats = await sessions.stats(session.id)
    assert (stats.entries, stats.estimated, stats.pending) == (2, Decimal("1.26"), 2)


async def test_the_deadline_closes_entries_under_the_intake_then_voting_waits(
    storage: Storage,
) -> None:
    clock = ManualClock()
    sessions, herald, intake = service(storage, clock)
    session = await open_session(sessions)
    assert await sessions.advance(session.id) == session.entries_close_at
    running = await entry(storage, session, 7, clock.now(), JobState.RUNNING)
    clock.advance(600)
    assert await sessions.advance(session.id) == clock.now()
    closed = await sessions.get(session.id)
    assert closed is not None
    assert (closed.state, closed.entries_closed_at, closed.ended_by) == (
        SessionState.VOTING,
        clock.now(),
        None,
    )
    assert intake.held == [GUILD]
    assert herald.changed == [SessionState.VOTING]
    with pytest.raises(EntryRefused):
        await sessions.admission(session.id, 8)(Decimal("0.10"))
    assert await sessions.advance(session.id) == clock.now() + 30, "an entry is on its way"
    clock.advance(400)
    job = await storage.jobs.get(running)
    assert job is not None
    done = job.transition(JobState.COMPLETED, clock.now(), notice=NoticeState.PENDING)
    await storage.jobs.save(
        done.transition(JobState.DELIVERED, clock.now(), notice=NoticeState.SENT)
    )
    assert await sessions.advance(session.id) == clock.now() + 300, "5 minutes after it came"


async def test_end_closes_entries_at_once_and_only_once(storage: Storage) -> None:
    clock = ManualClock()
    sessions, herald, _ = service(storage, clock)
    session = await open_session(sessions)
    ended = await sessions.end(session.id, by=9)
    assert ended is not None
    assert (ended.state, ended.ended_by) == (SessionState.VOTING, 9)
    assert await sessions.end(session.id, by=9) is None
    assert herald.changed == [SessionState.VOTING]
    assert await sessions.advance(session.id) == clock.now() + 300


async def voted_session(storage: Storage, sessions: Sessions, clock: ManualClock) -> Session:
    session = await open_session(sessions)
    first = await entry(storage, session, 7, clock.now(), JobState.DELIVERED)
    second = await entry(storage, session, 8, clock.now(), JobState.DELIVERED)
    for voter in (1, 2):
        assert (await sessions.vote(first, voter, limit=3)).outcome is VoteOutcome.COUNTED
    assert (await sessions.vote(second, 1, limit=3)).votes == 1
    await sessions.end(session.id, by=1)
    clock.advance(300)
    return session


async def test_the_recap_is_posted_in_both_places_and_the_session_closes(
    storage: Storage,
) -> None:
    clock = ManualClock()
    sessions, herald, _ = service(storage, clock)
    session = await voted_session(storage, sessions, clock)
    assert await sessions.advance(session.id) is None
    assert [place for place, _ in herald.recaps] == [RecapPlace.CHANNEL, RecapPlace.THREAD]
    recap = herald.recaps[0][1]
    assert [(s.requester_id, s.votes, s.place) for s in recap.table] == [(7, 2, 1), (8, 1, 2)]
    assert (recap.voters, recap.total_cost) == (2, Decimal("1.26"))
    closed = await sessions.get(session.id)
    assert closed is not None
    assert (closed.state, closed.recap_channel_message_id, closed.recap_thread_message_id) == (
        SessionState.CLOSED,
        1001,
        1002,
    )
    assert closed.recap_owner is None
    assert herald.closed == [session.id]
    assert [row.member_id for row in await sessions.leaderboard(GUILD, 10)] == [7, 8]
    assert await sessions.advance(session.id) is None
    assert len(herald.recaps) == 2


async def test_two_services_at_once_post_one_recap(tmp_path: Path) -> None:
    backend = StoreBackend("sqlite", f"sqlite:///{tmp_path / 'bot.sqlite3'}", tmp_path)
    first_storage, second_storage = await backend.open(), await backend.open()
    try:
        clock = ManualClock()
        first, first_herald, _ = service(first_storage, clock, owner="a", shared=True)
        second, second_herald, _ = service(second_storage, clock, owner="b", shared=True)
        session = await voted_session(first_storage, first, clock)
        await asyncio.gather(first.advance(session.id), second.advance(session.id))
        assert len(first_herald.recaps) + len(second_herald.recaps) == 2
    finally:
        await first_storage.close()
        await second_storage.close()


async def test_a_recap_whose_claimant_stopped_is_finished_by_another(storage: Storage) -> None:
    clock = ManualClock()
    dying, dying_herald, _ = service(storage, clock, owner="a", shared=True)
    dying_herald.fail_thread = True
    session = await voted_session(storage, dying, clock)
    with pytest.raises(RuntimeError, match="Discord is down"):
        await dying.advance(session.id)
    held = await storage.sessions.get(session.id)
    assert held is not None
    assert (held.state, held.recap_owner, held.recap_channel_message_id) == (
        SessionState.RECAP,
        "a",
        1001,
    )
    other, other_herald, _ = service(storage, clock, owner="b", shared=True)
    assert await other.advance(session.id) == held.recap_until, "a live claim is left alone"
    clock.advance(other.settings.recap_lease)
    assert await other.advance(session.id) is None
    assert [place for place, _ in other_herald.recaps] == [RecapPlace.THREAD]
    closed = await storage.sessions.get(session.id)
    assert closed is not None
    assert (closed.state, closed.recap_thread_message_id) == (SessionState.CLOSED, 1001)


async def test_a_restarted_single_process_finishes_its_own_recap_at_once(
    storage: Storage,
) -> None:
    clock = ManualClock()
    before, before_herald, _ = service(storage, clock, owner="run-1")
    before_herald.fail_thread = True
    session = await voted_session(storage, before, clock)
    with pytest.raises(RuntimeError):
        await before.advance(session.id)
    after, after_herald, _ = service(storage, clock, owner="run-2")
    assert await after.advance(session.id) is None
    assert [place for place, _ in after_herald.recaps] == [RecapPlace.THREAD]


async def test_cancel_ends_without_a_recap(storage: Storage) -> None:
    clock = ManualClock()
    sessions, herald, intake = service(storage, clock)
    session = await open_session(sessions)
    delivered = await entry(storage, session, 7, clock.now(), JobState.DELIVERED)
    cancelled = await sessions.cancel(session.id, by=3)
    assert cancelled is not None
    assert (cancelled.state, cancelled.cancelled_by) == (SessionState.CANCELLED, 3)
    assert await sessions.cancel(session.id, by=3) is None
    assert herald.closed == [session.id]
    assert intake.held == [GUILD, GUILD], "each try held the intake"
    assert (await sessions.vote(delivered, 1, limit=3)).outcome is VoteOutcome.VOTING_OVER
    clock.advance(10_000)
    assert await sessions.advance(session.id) is None
    assert herald.recaps == []


async def test_the_timer_keeps_deadlines_and_rereads_the_store() -> None:
    clock = ManualClock()
    looked: list[tuple[int, float]] = []
    refreshed: list[float] = []

    async def advance(session_id: int) -> float | None:
        looked.append((session_id, clock.now()))
        return clock.now() + 100 if len(looked) < 3 else None

    async def refresh() -> list[int]:
        refreshed.append(clock.now())
        return [7] if len(refreshed) == 1 else []

    timer = SessionTimer(clock, advance=advance, refresh=refresh, recheck=1000.0, retry=5.0)
    start = clock.now()
    timer.start()
    for _ in range(50):
        await asyncio.sleep(0)
    await timer.close()
    assert [session for session, _ in looked] == [7, 7, 7]
    assert [round(at - start) for _, at in looked] == [0, 100, 200]
    assert refreshed[0] == start
    assert len(refreshed) >= 2, "the store is read again every recheck"
    assert timer.sessions_due == 0
    assert not timer.is_alive()


def test_the_settings_are_clock_seconds() -> None:
    settings = SessionSettings()
    assert settings.recap_lease > settings.pending_recheck > settings.retry > 0
