"""Releasing the waiting line: which waiting jobs go to RunComfy now, and everyone's place.

The order and the limits are pure functions in `bot.jobs.line`; this keeps what they need
between calls: when each member was last served (for round-robin fairness), the jobs
released but not yet past their submit, and each waiting job's spot as last announced
(its place, and how many jobs are ahead of it for each limit it waits on), so only jobs
whose place changed are shown again and an estimate knows whom each waits for.

Releasing looks at every open job, so it runs only at a turn of the scheduler after
something said `LineMayMove` (a job joined or left the line, took or freed a slot, a
submit settled, a refused token works again), never once per change of a job.
"""

from __future__ import annotations

from collections import Counter
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
from bot.jobs.line import ServerLimits, line_order, pick_releases
from bot.jobs.model import ACTIVE_STATES, Job, JobState
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
        self._spots: dict[int, LineSpot] = {}
        self._holders: dict[PoolKey, list[int]] = {}
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

    def kept(self) -> dict[str, int]:
        """Jobs with a place in line, released and not yet past their submit, held back."""
        return {
            "places_in_line": len(self._spots),
            "released_jobs": len(self._reserved),
            "held_jobs": len(self._held),
        }

    def place_of(self, job_id: int) -> int | None:
        spot = self._spots.get(job_id)
        return spot.place if spot is not None else None

    def spot_of(self, job_id: int) -> LineSpot | None:
        return self._spots.get(job_id)

    def holders(self, key: PoolKey) -> list[int]:
        """The jobs at RunComfy (or being sent) that hold the slots of `key`."""
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
        release = self._release(self._book, event.now, closing=paused)
        for job in release.submit:
            self._bus.publish(JobReleased(job))
        for job_id in release.moved:
            self._book.announce(self._book.require(job_id))
        for job_id, when in release.wake_at:
            self._scheduler.at(job_id, when)

    def on_job_committed(self, event: JobCommitted) -> None:
        previous, job = event.previous, event.job
        if job.state is not JobState.WAITING:
            self._spots.pop(job.id, None)
        if previous is not None and moves_the_line(previous.state, job.state):
            self._bus.publish(LineMayMove())

    def on_submit_settled(self, event: SubmitSettled) -> None:
        self._reserved.discard(event.job_id)
        self._bus.publish(LineMayMove())

    def on_held_back(self, event: HeldBack) -> None:
        self._held[event.job_id] = event.until

    def on_job_let_go(self, event: JobLetGo) -> None:
        self._spots.pop(event.job_id, None)
        self._bus.publish(LineMayMove())

    def _release(self, jobs: Iterable[Job], now: float, *, closing: bool) -> Release:
        """The jobs to submit now and the places that changed; nothing is released while
        `closing` (the tracker stops, or RunComfy refuses the bot's token)."""
        self._may_move = False
        jobs = list(jobs)
        waiting = [job for job in jobs if job.state is JobState.WAITING]
        self._held = {job_id: until for job_id, until in self._held.items() if until > now}
        order = [
            job for job in line_order(waiting, self._last_served) if job.id not in self._reserved
        ]
        ready = [job for job in order if job.id not in self._held]
        active = [job for job in jobs if job.state in ACTIVE_STATES or job.id in self._reserved]
        picks = (
            []
            if closing
            else pick_releases(
                ready, active, limits_for=self._limits_for, total=self._total, now=now
            )
        )
        for job in picks:
            self._reserved.add(job.id)
            self._last_served[job.requester_id] = now
        released = {job.id for job in picks}
        remaining = [job for job in order if job.id not in released]
        spots = self._spots_in(remaining)
        moved = [
            job_id
            for job_id, spot in spots.items()
            if job_id not in self._spots or self._spots[job_id].place != spot.place
        ]
        self._spots = spots
        self._holders = _holders([*active, *picks], spots.values())
        self.generation += 1
        wake_at = [
            (job.id, job.not_before)
            for job in remaining
            if job.not_before is not None and job.not_before > now
        ]
        wake_at.extend(self._held.items())
        return Release(submit=picks, moved=moved, wake_at=wake_at)

    def _spots_in(self, remaining: list[Job]) -> dict[int, LineSpot]:
        """Each waiting job's place, and the jobs ahead of it for each of its limits."""
        ahead: Counter[PoolKey] = Counter()
        spots: dict[int, LineSpot] = {}
        limits: dict[int | None, ServerLimits] = {}
        for place, job in enumerate(remaining, start=1):
            if job.guild_id not in limits:
                limits[job.guild_id] = self._limits_for(job.guild_id)
            pools = tuple(
                Pool(key, capacity, ahead[key])
                for key, capacity in self._pools_of(job, limits[job.guild_id])
            )
            for pool in pools:
                ahead[pool.key] += 1
            spots[job.id] = LineSpot(place, pools)
        return spots

    def _pools_of(self, job: Job, limits: ServerLimits) -> list[tuple[PoolKey, int]]:
        pools: list[tuple[PoolKey, int]] = [
            (("member", job.guild_id, job.requester_id), limits.per_user),
            (("all", None, None), self._total),
        ]
        if job.guild_id is not None:
            pools.append((("server", job.guild_id, None), limits.per_server))
        return pools


def _holders(active: Iterable[Job], spots: Iterable[LineSpot]) -> dict[PoolKey, list[int]]:
    """The jobs holding the slots of every limit some waiting job waits on."""
    wanted = {pool.key for spot in spots for pool in spot.pools}
    holders: dict[PoolKey, list[int]] = {}
    if not wanted:
        return holders
    for job in active:
        keys: tuple[PoolKey, ...] = (
            ("member", job.guild_id, job.requester_id),
            ("server", job.guild_id, None),
            ("all", None, None),
        )
        for key in keys:
            if key in wanted:
                holders.setdefault(key, []).append(job.id)
    return holders
