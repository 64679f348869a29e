"""Releasing the waiting line: which waiting jobs go to RunComfy now, and everyone's place.

The order and the limits are pure functions in `bot.jobs.line`; this keeps what they need
between calls: when each member was last served (for round-robin fairness), the jobs
released but not yet past their submit, and the places last announced, so only jobs
whose place changed are shown again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.jobs.line import ServerLimits, line_order, pick_releases
from bot.jobs.model import ACTIVE_STATES, Job, JobState


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
    def __init__(
        self, *, limits_for: Callable[[int | None], ServerLimits], max_active_total: int
    ) -> None:
        self._limits_for = limits_for
        self._total = max_active_total
        self._last_served: dict[int, float] = {}
        self._places: dict[int, int] = {}
        self._reserved: set[int] = set()
        self._held: dict[int, float] = {}
        self.dirty = False
        """Set when a change may let a job go or reorder the line; cleared by `release`."""

    def served(self, requester_id: int, at: float) -> None:
        """Count a member as served at `at` (used for jobs already running after a restart)."""
        self._last_served[requester_id] = max(self._last_served.get(requester_id, 0.0), at)

    def kept(self) -> dict[str, int]:
        """Jobs with a place in line, released and not yet past their submit, held back."""
        return {
            "places_in_line": len(self._places),
            "released_jobs": len(self._reserved),
            "held_jobs": len(self._held),
        }

    def place_of(self, job_id: int) -> int | None:
        return self._places.get(job_id)

    def left_line(self, job_id: int) -> None:
        self._places.pop(job_id, None)

    def hold(self, job_id: int, until: float) -> None:
        """Keep a waiting job back until `until` (its last release could not be recorded)."""
        self._held[job_id] = until

    def settled(self, job_id: int) -> None:
        """A released job's submit is over (whatever its outcome); the line may move."""
        self._reserved.discard(job_id)
        self.dirty = True

    def release(self, jobs: Iterable[Job], now: float, *, closing: bool) -> Release:
        """The jobs to submit now and the places that changed; nothing is released while
        `closing` (the tracker stops, or RunComfy refuses the bot's token)."""
        self.dirty = False
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
        places = {job.id: place for place, job in enumerate(remaining, start=1)}
        moved = [job_id for job_id, place in places.items() if self._places.get(job_id) != place]
        self._places = places
        wake_at = [
            (job.id, job.not_before)
            for job in remaining
            if job.not_before is not None and job.not_before > now
        ]
        wake_at.extend(self._held.items())
        return Release(submit=picks, moved=moved, wake_at=wake_at)
