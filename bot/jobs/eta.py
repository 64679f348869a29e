"""When a job's video should be ready: the estimate its status card shows.

One model, two uses: run times come from the same `RunModel` the adaptive poll schedule
reads (`bot.jobs.polling`). The tracker teaches it from every finished run whichever
schedule polls, so a bot on fixed polling gets the same estimates. Beside the runs it
learns how long jobs wait in RunComfy's queue — overall, and per position ahead as
RunComfy's queue positions move — and how long posting a finished video takes. How long
a job waits in the bot's own line is worked out from the jobs at RunComfy ahead of it
(`release_at`, fed by the line).

An estimate is a time the video is likely ready by: the middle of every phase still
ahead plus one spread of the run, so most videos come before it and a job past it is
really taking longer than usual. With no run seen at all it assumes a stated prior
(`PRIOR_RUN_BASE` + `PRIOR_RUN_PER_SECOND` per second of video) and says so. It is
computed from when each phase began, not from the moment it is asked, so it stays put
while nothing new is learned about the job; a card moves to a new estimate only when
it has moved by more than `MOVE_SHARE` of the time left (`Eta.moved_from`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.jobs.model import Job, JobState
from bot.jobs.polling import RunKind, RunModel

PRIOR_RUN_BASE = 60.0
PRIOR_RUN_PER_SECOND = 12.0
"""With no run seen yet a run is assumed to take about a minute plus 12 s per second of
video: 2 min for a 5 s video, 4 min for 15 s."""
PRIOR_RUN_SPREAD = 0.25
"""The prior's spread, as a share of the assumed run."""
PRIOR_QUEUE_WAIT = 10.0
"""Seconds a job is assumed to wait in RunComfy's queue before any wait was seen."""
PRIOR_POSTING = 5.0
"""Seconds from RunComfy's finish to the posted video before any posting was seen."""
LIKELY_BY = 1.0
"""Spreads of the run added to the middle: about five videos in six come before it."""
MOVE_SHARE = 0.2
"""A new estimate replaces the shown one when it moved by more than this share (a fifth)
of the time the shown one had left."""


class Basis(StrEnum):
    LEARNED = "learned"
    """From runs seen (this kind, or borrowed from its neighbours)."""
    PRIOR = "prior"
    """No run seen yet: the stated prior."""


@dataclass(frozen=True, slots=True)
class Eta:
    at: float
    """When the video is likely ready (the bot's clock, Unix seconds)."""
    spread: float
    """Seconds: one spread of the run still ahead."""
    basis: Basis
    assumed_run: float | None = None
    """The run the prior assumed, in seconds (only with `Basis.PRIOR`)."""

    def overdue(self, now: float) -> bool:
        """Past the estimate: the job is taking longer than usual."""
        return now >= self.at

    def moved_from(self, shown: Eta, now: float) -> bool:
        """Whether this estimate differs from the `shown` one by more than a fifth of the
        time the shown one had left."""
        return abs(self.at - shown.at) > MOVE_SHARE * max(shown.at - now, 0.0)


@dataclass(slots=True)
class Learned:
    """An exponentially weighted mean and spread that starts at a stated prior; the prior
    counts as one observation, so the first ones weigh in fully."""

    prior: float
    weight: float = 0.2
    seen: int = 0
    mean: float = field(init=False)
    variance: float = 0.0

    def __post_init__(self) -> None:
        self.mean = self.prior

    def observe(self, value: float) -> None:
        self.seen += 1
        weight = max(self.weight, 1.0 / (self.seen + 1))
        delta = value - self.mean
        self.mean += weight * delta
        self.variance = (1.0 - weight) * (self.variance + weight * delta * delta)

    @property
    def spread(self) -> float:
        return math.sqrt(self.variance)


POSITIONS_TRUSTED_AFTER = 3
"""Starts seen before queue positions may be preferred to the usual wait."""


@dataclass(slots=True)
class QueueModel:
    """RunComfy's queue: the usual wait from being queued to running, and how many
    seconds one position ahead takes to clear (from positions seen moving, and jobs seen
    starting). Positions are used only once they have foretold starts better than the
    usual wait did: a queue whose positions say little (jobs of other customers served
    out of order, say) is not followed position by position."""

    wait: Learned = field(default_factory=lambda: Learned(PRIOR_QUEUE_WAIT))
    weight: float = 0.2
    moved: float = 0.0
    """Positions advanced, exponentially weighted by observation."""
    took: float = 0.0
    """The seconds they took, weighted alike."""
    position_miss: Learned = field(default_factory=lambda: Learned(0.0))
    """How far starts were from what the positions foretold, in seconds."""
    wait_miss: Learned = field(default_factory=lambda: Learned(0.0))
    """How far starts were from the usual wait, in seconds (the same starts)."""

    def advanced(self, positions: int, seconds: float) -> None:
        if positions <= 0 or seconds < 0:
            return
        keep = 1.0 - self.weight
        self.moved = keep * self.moved + positions
        self.took = keep * self.took + seconds

    def per_position(self) -> float | None:
        """Seconds one position ahead takes to clear; None before any was seen move."""
        return self.took / self.moved if self.moved >= 1.0 else None

    def follows_positions(self) -> bool:
        return (
            self.per_position() is not None
            and self.position_miss.seen >= POSITIONS_TRUSTED_AFTER
            and self.position_miss.mean < self.wait_miss.mean
        )

    def started(
        self, queued_at: float, started_at: float, position: int | None, position_at: float
    ) -> None:
        """A job queued at `queued_at`, last seen `position` ahead at `position_at`, began
        running at `started_at`: score both ways of foretelling it, then learn from it."""
        per_position = self.per_position()
        if position is not None and per_position is not None:
            foretold = position_at + (position + 1) * per_position
            self.position_miss.observe(abs(foretold - started_at))
            self.wait_miss.observe(abs(queued_at + self.wait.mean - started_at))
        if position is not None:
            self.advanced(position + 1, started_at - position_at)
        self.wait.observe(max(0.0, started_at - queued_at))

    def start_at(self, job: Job) -> float:
        """When a queued job should start running: from its position (counted from when
        it was recorded) when positions foretell starts well, else from the usual wait
        since it was queued. It may lie in the past for a job that waits longer than
        usual: its estimate then says so."""
        per_position = self.per_position()
        position = job.queue_position
        if position is not None and per_position is not None and self.follows_positions():
            return job.updated_at + (position + 1) * per_position
        return (job.entered(JobState.QUEUED) or job.updated_at) + self.wait.mean


@dataclass(frozen=True, slots=True)
class RunOutlook:
    middle: float
    spread: float
    basis: Basis


def prior_run(kind: RunKind) -> float:
    return PRIOR_RUN_BASE + PRIOR_RUN_PER_SECOND * kind.duration


@dataclass(slots=True)
class EtaModel:
    runs: RunModel = field(default_factory=RunModel)
    queue: QueueModel = field(default_factory=QueueModel)
    posting: Learned = field(default_factory=lambda: Learned(PRIOR_POSTING))

    def record_run(self, kind: RunKind, seconds: float) -> None:
        if seconds > 0 and kind.duration > 0:
            self.runs.observe(kind, seconds)

    def record_failure(self, kind: RunKind, seconds: float) -> None:
        """A run RunComfy failed `seconds` after it was seen running."""
        if kind.duration > 0:
            self.runs.observe_failure(kind, seconds)

    def run(self, kind: RunKind) -> RunOutlook:
        """The run ahead: learned, or the prior while no run at all was seen."""
        expected = self.runs.expect(kind)
        if expected is None:
            assumed = prior_run(kind)
            return RunOutlook(assumed, PRIOR_RUN_SPREAD * assumed, Basis.PRIOR)
        return RunOutlook(expected.middle, expected.spread, Basis.LEARNED)

    def time_at_runcomfy(self, kind: RunKind) -> float:
        """How long a job of this kind usually holds a slot: its queue wait and its run."""
        return self.queue.wait.mean + self.run(kind).middle

    def run_start(self, job: Job, now: float, released_at: float | None = None) -> float | None:
        """When the job should start (or started) running at RunComfy; None for a job no
        longer (or not yet) on its way. `released_at`: when the line should let a waiting
        job go (now, if unknown)."""
        match job.state:
            case JobState.RUNNING:
                return job.entered(JobState.RUNNING) or job.updated_at
            case JobState.QUEUED:
                return self.queue.start_at(job)
            case JobState.SUBMITTING:
                since = job.entered(JobState.SUBMITTING) or job.updated_at
                return max(now, since + self.queue.wait.mean)
            case JobState.WAITING:
                release = max(now, released_at or now, job.not_before or now)
                return release + self.queue.wait.mean
        return None

    def finish_at(self, job: Job, now: float) -> float | None:
        """The middle of when RunComfy should finish the job (it frees its slot then)."""
        start = self.run_start(job, now)
        if start is None:
            return None
        return max(now, start + self.run(RunKind.of(job.request)).middle)

    def estimate(self, job: Job, now: float, released_at: float | None = None) -> Eta | None:
        """When the job's video is likely posted; None once it is no longer waited for
        (finished, over its deadline, or not yet in line)."""
        start = self.run_start(job, now, released_at)
        if start is None:
            return None
        kind = RunKind.of(job.request)
        run = self.run(kind)
        at = start + run.middle + LIKELY_BY * run.spread + self.posting.mean
        assumed = run.middle if run.basis is Basis.PRIOR else None
        return Eta(at, run.spread, run.basis, assumed)


def release_at(ends: Sequence[float], capacity: int, ahead: int, cycle: float, now: float) -> float:
    """When a waiting job gets one of `capacity` slots, with `ahead` jobs before it in line
    for them and the slots' holders expected to finish at `ends`: each slot is taken by
    the next in line as it frees, and a job holds it for `cycle` seconds."""
    capacity = max(capacity, 1)
    slots = sorted(max(now, end) for end in ends)
    if len(slots) >= capacity:
        slots = slots[len(slots) - capacity :]
    else:
        slots = [now] * (capacity - len(slots)) + slots
    rounds, index = divmod(max(ahead, 0), capacity)
    return slots[index] + rounds * cycle
