"""Releasing the waiting line: which waiting jobs go to RunComfy now, and everyone's place.

The order and the limits are pure functions in `bot.jobs.line`; this keeps what they need
between calls: when each member was last served (for round-robin fairness), the jobs
released but not yet past their submit, and each waiting job's spot as last announced
(its place, and how many jobs are ahead of it for each limit it waits on), so only jobs
whose place changed are shown again and an estimate knows whom each waits for.

Releasing runs only at a turn of the scheduler after something said `LineMayMove` (a job
joined or left the line, took or freed a slot, a submit settled, a refused token works
again), never once per change of a job. It reads the book's `LineIndex` (the waiting jobs
and the slots held, counted as jobs change), never every job the tracker holds, and keeps
the line's order and places in `LinePlaces`: a new job joining the line is put in its
place there, and the whole line is sorted again only once a job left it or a member was
served. What each limit's holders are is worked out only when an estimate asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.jobs.events import (
    HeldBack,
    JobCommitted,
    JobLetGo,
    JobReleased,
    LineMayMove,
    SubmitSettled,
    TurnBegins,
)
from bot.jobs.line import pick_within
from bot.jobs.model import ACTIVE_STATES, Job, JobState
from bot.jobs.places import LinePlaces
from bot.jobs.slots import SlotCounts
from bot.jobs.token_watch import TokenWatch

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext


PoolKey = tuple[str, int | None, int | None]
"""One limit's slots: a member's in a server, a server's, or everyone's."""


@dataclass(frozen=True, slots=True)
class Pool:
    key: PoolKey
    capacity: int
    ahead: int
    """Jobs before this one in line waiting for the same slots."""


@dataclass(frozen=True, slots=True)
class LineSpot:
    """Where a waiting job stands: its place, and each limit it waits on."""

    place: int
    pools: tuple[Pool, ...]


def moves_the_line(before: JobState, after: JobState) -> bool:
    """Whether a state change can release or reorder waiting jobs: a job joins or leaves
    the line, or takes or frees a slot at RunComfy. Moves between active states (queued →
    running) do neither, and rescanning every job for each of them is what made a busy
    tracker's CPU grow with the square of its jobs."""
    if before is after:
        return False
    return JobState.WAITING in (before, after) or (before in ACTIVE_STATES) != (
        after in ACTIVE_STATES
    )


@dataclass(frozen=True, slots=True)
class Release:
    submit: list[Job] = field(default_factory=list)
    """Jobs to send to RunComfy now (they hold a slot until their submit settles)."""
    moved: list[int] = field(default_factory=list)
    """Waiting jobs whose place in line changed."""
    wake_at: list[tuple[int, float]] = field(default_factory=list)
    """Waiting jobs held back until a time (a retry after RunComfy refused for now)."""


class LineRelease:
    def __init__(self, context: TrackerContext, *, token: TokenWatch) -> None:
        """Nothing is released while RunComfy refuses the bot's `token`."""
        self._book = context.book
        self._scheduler = context.scheduler
        self._bus = context.bus
        self._token = token
        self._limits_for = context.limits_for
        self._total = context.settings.max_active_total
        self._last_served: dict[int, float] = {}
        self._places = LinePlaces()
        self._sorted_at = -1
        """The `served` count when the line was last sorted again (a restart's members
        served change every key)."""
        self._served = 0
        self._holders: dict[PoolKey, list[int]] = {}
        self._holders_at = -1
        """The `generation` `_holders` was worked out at."""
        self.generation = 0
        """Counts releases: what was worked out from the last one is stale once it moves."""
        self._reserved: set[int] = set()
        self._held: dict[int, float] = {}
        self._may_move = False
        """Set by `LineMayMove`; cleared when the line is released."""
        self._closing = False
        bus = context.bus
        bus.subscribe(LineMayMove, self.on_line_may_move)
        bus.subscribe(TurnBegins, self.on_turn_begins)
        bus.subscribe(JobCommitted, self.on_job_committed)
        bus.subscribe(SubmitSettled, self.on_submit_settled)
        bus.subscribe(HeldBack, self.on_held_back)
        bus.subscribe(JobLetGo, self.on_job_let_go)

    def served(self, requester_id: int, at: float) -> None:
        """Count a member as served at `at` (used for jobs already running after a restart)."""
        self._last_served[requester_id] = max(self._last_served.get(requester_id, 0.0), at)
        self._served += 1

    def kept(self) -> dict[str, int]:
        """Jobs with a place in line, released and not yet past their submit, held back."""
        return {
            "places_in_line": len(self._places),
            "released_jobs": len(self._reserved),
            "held_jobs": len(self._held),
        }

    def place_of(self, job_id: int) -> int | None:
        place = self._places.get(job_id)
        return place.place if place is not None else None

    def spot_of(self, job_id: int) -> LineSpot | None:
        spot, job = self._places.get(job_id), self._book.get(job_id)
        if spot is None or job is None:
            return None
        limits = self._limits_for(job.guild_id)
        pools = [
            Pool(("member", job.guild_id, job.requester_id), limits.per_user, spot.member_ahead),
            Pool(("all", None, None), self._total, spot.place - 1),
        ]
        if job.guild_id is not None:
            pools.append(Pool(("server", job.guild_id, None), limits.per_server, spot.server_ahead))
        return LineSpot(spot.place, tuple(pools))

    def holders(self, key: PoolKey) -> list[int]:
        """The jobs at RunComfy (or being sent) that hold the slots of `key`."""
        if self._holders_at != self.generation:
            self._holders, self._holders_at = _holders(self._holding()), self.generation
        return self._holders.get(key, [])

    def close(self) -> None:
        """The tracker stops: release nothing more."""
        self._closing = True

    # ------------------------------------------------------------------- events

    def on_line_may_move(self, event: LineMayMove) -> None:
        self._may_move = True
        self._scheduler.wake()

    def on_turn_begins(self, event: TurnBegins) -> None:
        """Send the first jobs in line that fit the limits; show changed places."""
        if not self._may_move:
            return
        paused = self._closing or self._token.refused
        release = self._release(event.now, closing=paused)
        for job in release.submit:
            self._bus.publish(JobReleased(job))
        for job_id in release.moved:
            self._book.announce(self._book.require(job_id))
        for job_id, when in release.wake_at:
            self._scheduler.at(job_id, when)

    def on_job_committed(self, event: JobCommitted) -> None:
        previous, job = event.previous, event.job
        if job.state is not JobState.WAITING:
            self._places.leave(job.id, self._last_served)
        if previous is not None and moves_the_line(previous.state, job.state):
            self._bus.publish(LineMayMove())

    def on_submit_settled(self, event: SubmitSettled) -> None:
        self._reserved.discard(event.job_id)
        self._bus.publish(LineMayMove())

    def on_held_back(self, event: HeldBack) -> None:
        self._held[event.job_id] = event.until

    def on_job_let_go(self, event: JobLetGo) -> None:
        self._places.leave(event.job_id, self._last_served)
        self._bus.publish(LineMayMove())

    def _release(self, now: float, *, closing: bool) -> Release:
        """The jobs to submit now and the places that changed; nothing is released while
        `closing` (the tracker stops, or RunComfy refuses the bot's token)."""
        self._may_move = False
        self._holders = {}
        self.generation += 1
        self._held = {job_id: until for job_id, until in self._held.items() if until > now}
        self._line_up()
        waiting, order = self._book.line.waiting, self._places.order
        picks: list[Job] = []
        if not closing:
            ready = (waiting[job_id] for job_id in order if job_id not in self._held)
            held = self._slots_held()
            picks = pick_within(
                ready,
                held,
                limits_for=self._limits_for,
                total=self._total,
                now=now,
                servers=self._places.servers,
            )
        for job in picks:
            self._reserved.add(job.id)
            self._last_served[job.requester_id] = now
            self._places.leave(job.id, self._last_served)
        wake_at = [
            (job_id, until)
            for job_id, until in self._book.line.held_until.items()
            if until > now and job_id not in self._reserved
        ]
        wake_at.extend(self._held.items())
        return Release(submit=picks, moved=self._places.moved(), wake_at=wake_at)

    def _slots_held(self) -> SlotCounts:
        """Slots held at RunComfy, with the jobs released and not yet past their submit
        (still waiting in the book) counted too."""
        line = self._book.line
        extra = [
            job
            for job_id in self._reserved
            if job_id not in line.active and (job := self._book.get(job_id)) is not None
        ]
        if not extra:
            return line.counts
        counts = SlotCounts(
            line.counts.by_member.copy(), line.counts.by_server.copy(), line.counts.running
        )
        for job in extra:
            counts.add(job)
        return counts

    def _holding(self) -> list[Job]:
        line = self._book.line
        reserved = (
            job
            for job_id in self._reserved
            if job_id not in line.active and (job := self._book.get(job_id)) is not None
        )
        return [*line.active.values(), *reserved]

    def _line_up(self) -> None:
        """Bring the line's order up to date: the new jobs put in their places, or the
        whole line sorted again when that cannot be (a refused submit came back to the
        line, a restart's members were served, a job not the newest of its requester, a
        job released and not yet past its submit). The jobs that arrived are the ones
        the book saw join, by id: an arrival that left again before this turn changes
        nothing here."""
        line = self._book.line
        arrivals = line.take_arrivals()
        waiting, places = line.waiting, self._places
        if self._sorted_at == self._served:
            joining = [waiting[job_id] for job_id in arrivals if job_id in waiting]
            if all(
                job.id not in self._reserved and places.join(job, self._last_served)
                for job in joining
            ):
                reserved = sum(1 for job_id in self._reserved if job_id in waiting)
                if len(places) + reserved == len(waiting) and all(
                    map(waiting.__contains__, places.order)
                ):
                    return
        self._sorted_at = self._served
        ready = (job for job in waiting.values() if job.id not in self._reserved)
        places.rebuild(ready, self._last_served)


def _holders(active: Iterable[Job]) -> dict[PoolKey, list[int]]:
    """The jobs holding the slots of every limit."""
    holders: dict[PoolKey, list[int]] = {}
    for job in active:
        keys: tuple[PoolKey, ...] = (
            ("member", job.guild_id, job.requester_id),
            ("server", job.guild_id, None),
            ("all", None, None),
        )
        for key in keys:
            holders.setdefault(key, []).append(job.id)
    return holders
