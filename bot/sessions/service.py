"""The sessions' one service: start, entries, votes, the end of entries and of voting, the
recap claimed and posted once, cancel, removal and the leaderboard.

Every change is made to the newest stored version and written only over it (the store
refuses a write over a version another write replaced), so when several processes share
the database each step is taken once: whoever's write lands first took it, and the
others read what it did. Closing entries happens with the tracker's intake held for the
server, so a job is an entry exactly when it was accepted while the session was open.
The recap is posted by the process that moved the session from voting to recap (its
claimant) and that keeps renewing its claim; a claimant that dies leaves a claim that
runs out, and another process finishes the recap, after looking for the copies the
first one may have posted (the Discord side searches before it posts).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.clock import Clock
from bot.sessions.model import Entry, EntryJob, Session, SessionDraft, SessionState, last_delivered
from bot.sessions.ports import Herald, IntakeHold, RecapPlace, SessionStorage
from bot.sessions.rules import EntryRefusal, EntryRefused, VoteResult, check_entry, decide_vote
from bot.sessions.standings import LeaderRow, Recap, leaderboard, recap_of
from bot.sessions.timer import SessionTimer

log = logging.getLogger(__name__)

EntryCheck = Callable[[Decimal], Awaitable[None]]
"""Run by the tracker's intake with a new job's estimate; raises `EntryRefused`."""
NOT_POSTED = 0
"""A recap message id for a place that could not take it (its channel or thread gone)."""


@dataclass(frozen=True, slots=True)
class SessionSettings:
    recap_lease: float = 300.0
    """Clock seconds a claimant holds the recap before another process may finish it."""
    recheck: float = 60.0
    """Clock seconds between two reads of the unfinished sessions."""
    pending_recheck: float = 30.0
    """Clock seconds between two looks at a session whose entries are still on their way."""
    retry: float = 10.0
    """Clock seconds before a look the database refused is tried again."""


@dataclass(frozen=True, slots=True)
class SessionStats:
    entries: int
    """Entries accepted so far (not those that failed, were cancelled or were removed)."""
    spent: Decimal
    """What they cost, or are estimated to cost until RunComfy says."""
    estimated: Decimal
    """Their estimates: what the budget counts."""
    pending: int
    last_delivered: float | None

    @classmethod
    def of(cls, jobs: Iterable[EntryJob]) -> SessionStats:
        counting = [job for job in jobs if job.counts]
        return cls(
            entries=sum(1 for job in counting if not job.deleted),
            spent=sum((job.spent for job in counting), Decimal(0)),
            estimated=sum((job.estimated_cost for job in counting), Decimal(0)),
            pending=sum(1 for job in counting if job.pending),
            last_delivered=last_delivered(counting),
        )


class RecapLost(Exception):
    """Another process holds the recap now."""


class Sessions:
    def __init__(
        self,
        store: SessionStorage,
        *,
        clock: Clock,
        intake: IntakeHold,
        owner: str,
        shared: bool,
        settings: SessionSettings | None = None,
    ) -> None:
        """`owner` names this process in recap claims; `shared`: other processes use the
        same database (else a claim left by an earlier run of this one is taken at once)."""
        self.store = store
        self.clock = clock
        self.settings = settings or SessionSettings()
        self._intake = intake
        self._owner = owner
        self._shared = shared
        self._herald: Herald | None = None
        self._known: dict[int, Session] = {}
        self._timer = SessionTimer(
            clock,
            advance=self.advance,
            refresh=self._unfinished_ids,
            recheck=self.settings.recheck,
            retry=self.settings.retry,
        )

    # -------------------------------------------------------------- lifecycle

    async def start(self, herald: Herald, *, known: Iterable[int | None] = ()) -> None:
        """Start keeping deadlines; `herald` shows what happens. The sessions `known` are
        read first (those of open jobs, whose status cards name them)."""
        self._herald = herald
        await self.prime(session_id for session_id in known if session_id is not None)
        self._timer.start()

    async def close(self) -> None:
        await self._timer.close()

    def is_running(self) -> bool:
        return self._timer.is_alive()

    @property
    def owner(self) -> str:
        """This process's name in recap claims."""
        return self._owner

    @property
    def herald(self) -> Herald:
        if self._herald is None:
            raise RuntimeError("the sessions have not started")
        return self._herald

    def known(self, session_id: int) -> Session | None:
        """The newest version this process has read or written (no database read)."""
        return self._known.get(session_id)

    async def prime(self, session_ids: Iterable[int]) -> None:
        """Read sessions this process will be asked about (those of its open jobs)."""
        for session_id in sorted(set(session_ids) - set(self._known)):
            await self.get(session_id)

    def _keep(self, session: Session) -> Session:
        self._known[session.id] = session
        return session

    # ---------------------------------------------------------------- reading

    async def get(self, session_id: int) -> Session | None:
        session = await self.store.get(session_id)
        return None if session is None else self._keep(session)

    async def open_in(self, channel_id: int) -> Session | None:
        session = await self.store.open_in(channel_id)
        return None if session is None else self._keep(session)

    async def latest_in(self, channel_id: int) -> Session | None:
        session = await self.store.latest_in(channel_id)
        return None if session is None else self._keep(session)

    async def stats(self, session_id: int) -> SessionStats:
        return SessionStats.of(await self.store.entry_jobs(session_id))

    async def leaderboard(self, guild_id: int, limit: int) -> list[LeaderRow]:
        return leaderboard(await self.store.leaders(guild_id), limit)

    async def _unfinished_ids(self) -> list[int]:
        return [self._keep(session).id for session in await self.store.unfinished()]

    # --------------------------------------------------------------- starting

    async def begin(self, draft: SessionDraft) -> Session | None:
        """Store a new open session; None when its channel has one open already."""
        session = await self.store.create(draft.session(self.clock.now()))
        if session is None:
            return None
        self._timer.due(session.id, session.entries_close_at)
        return self._keep(session)

    async def gallery_opened(self, session: Session, *, card: int, thread: int | None) -> Session:
        """The card is posted and its thread opened: entries go there from now on."""
        saved = await self._change(
            session.id, lambda s: s.update(card_message_id=card, thread_id=thread)
        )
        return saved or session

    async def abandon(self, session: Session) -> None:
        """The card could not be posted: the session never was (nothing is shown)."""
        await self.cancel(session.id, by=session.host_id, show=False)

    # ---------------------------------------------------------------- entries

    def admission(self, session_id: int, requester_id: int) -> EntryCheck:
        """The check the tracker runs under its intake lock, with the new job's estimate."""

        async def check(estimate: Decimal) -> None:
            session = await self.store.get(session_id)
            if session is None:
                raise EntryRefused(EntryRefusal.CLOSED, theme="")
            self._keep(session)
            jobs = [job for job in await self.store.entry_jobs(session_id) if job.counts]
            entered = sum(1 for job in jobs if job.requester_id == requester_id)
            spent = sum((job.estimated_cost for job in jobs), Decimal(0))
            check_entry(session, entered=entered, spent=spent, estimate=estimate)

        return check

    async def entry_posted(self, entry: Entry) -> None:
        """An entry's video is going up in the gallery: keep what it shows. Voting waits
        for accepted entries, so the session is looked at again."""
        await self.store.record_entry(entry)
        self._timer.due(entry.session_id, self.clock.now())

    def entry_changed(self, session_id: int) -> None:
        """An entry was accepted, or its video arrived or failed: the card changes, and
        the end of voting may move."""
        session = self._known.get(session_id)
        if session is not None and self._herald is not None:
            self._herald.session_changed(session)
        if session is not None and session.state is SessionState.VOTING:
            self._timer.due(session_id, self.clock.now())

    async def vote(self, entry_id: int, voter_id: int, *, limit: int) -> VoteResult:
        outcome, session_id, votes, used = await self.store.vote(
            entry_id,
            voter_id,
            at=self.clock.now(),
            decide=lambda facts: decide_vote(facts, voter_id=voter_id, limit=limit),
        )
        return VoteResult(outcome, entry_id, session_id, votes, used, limit)

    async def remove_entry(self, entry_id: int, *, by: int) -> bool:
        """Remove a posted entry while its session takes votes: its votes go back to the
        voters and it has no place; False when it was no entry to remove."""
        return await self.store.remove_entry(entry_id, by=by, at=self.clock.now())

    # ---------------------------------------------------------------- ending

    async def end(self, session_id: int, *, by: int) -> Session | None:
        """Close entries now (`/session end`); None when the session was not open."""
        return await self._close_entries(session_id, by=by)

    async def cancel(self, session_id: int, *, by: int, show: bool = True) -> Session | None:
        """End without a recap; None when it had ended already. Accepted jobs still
        deliver (their videos go to the gallery without a Vote button)."""
        session = self._known.get(session_id) or await self.get(session_id)
        if session is None:
            return None
        async with self._intake(session.guild_id):
            now = self.clock.now()
            cancelled = await self._change(
                session_id,
                lambda s: (
                    s.transition(SessionState.CANCELLED, cancelled_by=by, closed_at=now)
                    if s.state.takes_votes
                    else None
                ),
            )
        if cancelled is not None and show:
            self.herald.session_changed(cancelled)
            await self.herald.votes_closed(cancelled)
        if cancelled is not None:
            self._timer.forget(session_id)
        return cancelled

    async def _close_entries(self, session_id: int, *, by: int | None) -> Session | None:
        """Entries close now (`by` a member), or at the deadline, as of the deadline even
        when the bot was down then, so voting's window is counted from it."""
        session = self._known.get(session_id) or await self.get(session_id)
        if session is None:
            return None
        async with self._intake(session.guild_id):
            now = self.clock.now()
            closed = await self._change(
                session_id,
                lambda s: (
                    s.transition(
                        SessionState.VOTING,
                        entries_closed_at=now if by is not None else s.entries_close_at,
                        ended_by=by,
                    )
                    if s.state is SessionState.OPEN
                    and (by is not None or now >= s.entries_close_at)
                    else None
                ),
            )
        if closed is not None:
            log.info("session %d: entries closed (%s)", session_id, "ended" if by else "deadline")
            self.herald.session_changed(closed)
            self._timer.due(session_id, now)
        return closed

    # -------------------------------------------------------------- deadlines

    async def advance(self, session_id: int) -> float | None:
        """Whatever is due for the session now; when to look again."""
        session = await self.get(session_id)
        if session is None or session.state.is_final:
            return None
        now = self.clock.now()
        if session.state is SessionState.OPEN:
            if now < session.entries_close_at:
                return session.entries_close_at
            await self._close_entries(session_id, by=None)
            return now
        if session.state is SessionState.VOTING:
            return await self._voting(session, now)
        return await self._recap_due(session, now)

    async def _voting(self, session: Session, now: float) -> float | None:
        jobs = await self.store.entry_jobs(session.id)
        if any(job.pending for job in jobs):
            return now + self.settings.pending_recheck
        ends = session.voting_ends_at(last_delivered(jobs))
        if ends is not None and now < ends:
            return ends
        lease = now + self.settings.recap_lease
        claimed = await self._change(
            session.id,
            lambda s: (
                s.transition(SessionState.RECAP, recap_owner=self._owner, recap_until=lease)
                if s.state is SessionState.VOTING
                else None
            ),
        )
        if claimed is None:
            return now
        log.info("session %d: voting closed; posting the recap", session.id)
        return await self._post_recap(claimed)

    async def _recap_due(self, session: Session, now: float) -> float | None:
        """A recap under way: ours to go on with, or a claim that ran out (its claimant
        stopped), or another live process's to finish."""

        def ours(s: Session) -> bool:
            stale = s.recap_until is None or s.recap_until <= now
            return s.recap_owner == self._owner or stale or not self._shared

        if not ours(session):
            return session.recap_until
        lease = now + self.settings.recap_lease
        claimed = await self._change(
            session.id,
            lambda s: (
                s.update(recap_owner=self._owner, recap_until=lease)
                if s.state is SessionState.RECAP and ours(s)
                else None
            ),
        )
        if claimed is None:
            return now
        return await self._post_recap(claimed)

    async def recap(self, session: Session) -> Recap:
        entries = await self.store.entries(session.id)
        counts = await self.store.vote_counts(session.id)
        voters = await self.store.voters(session.id)
        jobs = await self.store.entry_jobs(session.id)
        return recap_of(session, entries, counts, voters, jobs)

    async def _post_recap(self, session: Session) -> float | None:
        """Results, the recap in the channel and the thread, the Vote buttons off, closed.
        Each step is recorded before the next, so a successor repeats none of them."""
        recap = await self.recap(session)
        await self.store.record_results(session.id, recap.table)
        try:
            await self.herald.votes_closed(session)
            if session.recap_channel_message_id is None:
                session = await self._hold(session)
                posted = await self.herald.post_recap(recap, RecapPlace.CHANNEL)
                session = await self._hold(
                    session.update(recap_channel_message_id=posted or NOT_POSTED)
                )
            if session.thread_id is not None and session.recap_thread_message_id is None:
                session = await self._hold(session)
                posted = await self.herald.post_recap(recap, RecapPlace.THREAD)
                session = await self._hold(
                    session.update(recap_thread_message_id=posted or NOT_POSTED)
                )
            closed = await self._hold(
                session.transition(
                    SessionState.CLOSED,
                    closed_at=self.clock.now(),
                    recap_owner=None,
                    recap_until=None,
                )
            )
        except RecapLost:
            log.warning("session %d: another process took the recap over", session.id)
            return None
        log.info("session %d: closed with %d entries", session.id, recap.entries)
        self.herald.session_changed(closed)
        return None

    async def _hold(self, session: Session) -> Session:
        """Write our copy (renewing the claim); `RecapLost` if another write came first."""
        if session.state is SessionState.RECAP:
            session = session.update(recap_until=self.clock.now() + self.settings.recap_lease)
        saved = await self.store.save(session)
        if saved is None:
            raise RecapLost(session.id)
        return self._keep(saved)

    async def _change(
        self, session_id: int, change: Callable[[Session], Session | None], attempts: int = 5
    ) -> Session | None:
        """Apply `change` to the newest version until the write lands; None when `change`
        says there is nothing to do (it returns None)."""
        for _ in range(attempts):
            current = await self.store.get(session_id)
            if current is None:
                return None
            self._keep(current)
            wanted = change(current)
            if wanted is None:
                return None
            saved = await self.store.save(wanted)
            if saved is not None:
                return self._keep(saved)
        log.warning("session %d: gave up a change after %d races", session_id, attempts)
        return None
