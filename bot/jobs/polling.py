"""When to ask RunComfy about a job next.

RunComfy has no webhooks for the Model API, so the tracker polls. Fixed-interval
polling wastes requests on long runs and is late on short ones. The adaptive schedule
never bets a bounded lag on a guess: until recent runs confirm what it has learned, no
gap between polls is longer than a small fraction of how long the job has waited or run,
so a job that finishes or fails early is seen early. Once recent runs agree with its
model, it polls a running job as often as the chance that it has just finished warrants.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from bot.jobs.failure_timing import FailureTiming
from bot.jobs.finish_odds import LATE, LIKELY, TAILS, hazard
from bot.jobs.model import Job, JobState
from bot.runcomfy.request import DEFAULT_SOUND, KlingRequest


class PollPolicy(Protocol):
    def next_delay(self, job: Job, now: float) -> float:
        """Seconds until the next status/result request for a queued or running job."""
        ...

    def forget(self, job_id: int) -> None:
        """The job is no longer running here: drop whatever was kept for its run."""
        ...

    @property
    def runs_counted(self) -> int:
        """Runs whose polls the schedule counts right now (0 once none is running)."""
        ...

    @property
    def runs(self) -> RunModel | None:
        """The run model the schedule reads, if any: the tracker teaches it (and its
        estimates read it too), so the schedule itself never learns."""
        ...


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class FixedPolling:
    """The naive schedule, kept as a setting and as the benchmark's baseline."""

    def __init__(self, interval: float) -> None:
        self.interval = interval

    def next_delay(self, job: Job, now: float) -> float:
        return self.interval

    def forget(self, job_id: int) -> None:
        """Nothing is kept per job."""

    @property
    def runs_counted(self) -> int:
        return 0

    @property
    def runs(self) -> RunModel | None:
        return None


@dataclass(frozen=True, slots=True)
class LagBound:
    """The longest gap allowed: a fraction of the time waited so far (at least `floor`,
    at most `ceiling`), so noticing an early finish or failure costs at most that
    fraction, while a long wait is not polled every few seconds."""

    floor: float = 5.0
    fraction: float = 0.2
    ceiling: float = 5.0

    def gap(self, elapsed: float) -> float:
        return min(self.ceiling, max(self.floor, self.fraction * max(elapsed, 0.0)))


@dataclass(frozen=True, slots=True)
class RunKind:
    """What a run's length depends on: the video's length, whether it has sound, and how
    many shots it has (1 for a single prompt)."""

    duration: int
    sound: bool = DEFAULT_SOUND
    shots: int = 1

    @classmethod
    def of(cls, request: KlingRequest) -> RunKind:
        shots = len(request.multi_prompt) if request.multi_prompt else 1
        return cls(request.effective_duration, request.effective_sound, shots)


def _kind(kind: RunKind | int) -> RunKind:
    """A bare video length stands for a single-shot video with the default sound."""
    return kind if isinstance(kind, RunKind) else RunKind(kind)


@dataclass(frozen=True, slots=True)
class Expectation:
    """A learned run time for one video length: its middle and spread (σ), in seconds."""

    middle: float
    spread: float


@dataclass(slots=True)
class RunModel:
    """Recent run times as log(seconds of run per second of video).

    A `level` follows RunComfy's current speed (exponentially weighted, so recent runs
    weigh more), an offset per kind of run (video length, sound, shots) keeps their
    different overheads, and a
    spread in log units stays valid when RunComfy gets uniformly faster or slower. A run
    more than `surprise` spreads from the prediction distrusts the model until
    `trust_after` runs in a row agree again, and moves the level to the median of the
    last three runs: two surprising runs in a row are a new regime, adopted at once,
    while a lone outlier (a run whose finish was noticed late) leaves the level alone.
    """

    level_weight: float = 0.15
    offset_weight: float = 0.3
    spread_weight: float = 0.15
    surprise: float = 3.5
    min_surprise: float = 0.3
    """A run this far (in log units: 35 %) from the prediction may be a surprise; nearer
    ones are noise, however tight the recent runs happen to be."""
    trust_after: int = 3
    initial_sigma: float = 0.15
    min_sigma: float = 0.04
    unseen_sigma: float = 0.15
    """Extra spread (log units) for a video length no run has been seen of."""
    level: float | None = None
    variance: float = 0.0
    offsets: dict[RunKind, float] = field(default_factory=dict)
    agreeing: int = 0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=3))
    """The last runs' levels (their log rate less their length's offset)."""
    failures: FailureTiming = field(default_factory=FailureTiming)
    """When in their runs jobs failed, as shares of the run expected for them."""

    @property
    def sigma(self) -> float:
        return max(math.sqrt(self.variance), self.min_sigma)

    def trusts(self) -> bool:
        """Whether the last `trust_after` runs agreed with the model."""
        return self.level is not None and self.agreeing >= self.trust_after

    def expect(self, kind: RunKind | int) -> Expectation | None:
        """The run time for this kind of run; an unseen kind borrows the offsets of its
        nearest seen video lengths (of the same sound and shots if any were seen), with a
        wider spread for the guess."""
        if self.level is None:
            return None
        kind = _kind(kind)
        offset, sigma = self.offsets.get(kind), self.sigma
        if offset is None:
            offset, sigma = self._borrowed_offset(kind), math.hypot(sigma, self.unseen_sigma)
        middle = kind.duration * math.exp(self.level + offset)
        return Expectation(middle, middle * sigma)

    def _borrowed_offset(self, kind: RunKind) -> float:
        family = {
            seen.duration: offset
            for seen, offset in self.offsets.items()
            if (seen.sound, seen.shots) == (kind.sound, kind.shots)
        }
        if not family:
            by_length: dict[int, list[float]] = {}
            for seen, offset in self.offsets.items():
                by_length.setdefault(seen.duration, []).append(offset)
            family = {length: statistics.fmean(found) for length, found in by_length.items()}
        return _between(family, kind.duration)

    def observe_failure(self, kind: RunKind | int, seconds: float) -> None:
        """A run that failed `seconds` after it was seen running (nothing before a first
        run: without an expected run there is no share to keep)."""
        expected = self.expect(kind)
        if expected is not None and seconds >= 0.0:
            self.failures.observe(seconds / expected.middle)

    def observe(self, kind: RunKind | int, seconds: float) -> None:
        kind = _kind(kind)
        value = math.log(seconds / kind.duration)
        if self.level is None:
            self.level, self.variance, self.agreeing = value, self.initial_sigma**2, 1
            self.offsets[kind] = 0.0
            self.recent.append(value)
            return
        offset = self.offsets.get(kind)
        if offset is None:
            self.offsets[kind] = value - self.level
            self.recent.append(self.level)
            return
        self.recent.append(value - offset)
        residual = value - (self.level + offset)
        if abs(residual) > max(self.surprise * self.sigma, self.min_surprise):
            self.level = statistics.median(self.recent)
            self.agreeing = 0
            return
        self.agreeing += 1
        self.level += self.level_weight * residual
        self.offsets[kind] = offset + self.offset_weight * (value - self.level - offset)
        self.variance += self.spread_weight * (residual * residual - self.variance)


def _between(offsets: dict[int, float], duration: int) -> float:
    """The offset of a video length, read off its nearest seen neighbours (straight-line
    between them, else the nearest one)."""
    below = [length for length in offsets if length < duration]
    above = [length for length in offsets if length > duration]
    if not below or not above:
        nearest = max(below) if below else min(above)
        return offsets[nearest]
    low, high = max(below), min(above)
    share = (duration - low) / (high - low)
    return offsets[low] + share * (offsets[high] - offsets[low])


KEPT_RUNS = 10_000
"""Runs whose polls are counted at once; more than the bot ever has at RunComfy."""


class AdaptivePolling:
    """Bounded lag while the model is untrusted; polls placed by the chance of finishing
    once it is trusted.

    Queued jobs always get `queue_bound`, measured from when the job was queued: a
    queued job may start and finish quickly, and a start seen late blurs what is
    learned. A running job gets `bound` (never sparser than fixed 5 s polling) while
    the model is untrusted (cold start, recent runs disagreeing) and once it is late
    beyond anything the model expects. Otherwise polls come at a rate of
    `eagerness * sqrt(hazard)` under a normal run time around the learned middle: the
    square root balances the cost of a request against the cost of noticing late, so
    the schedule is sparse while finishing is unlikely and dense around the expected
    finish. Two caps keep a wrong guess cheap: `hedge` (half the time run so far) for
    a job that ends early or fails, and `dense_gap` from a little before the expected
    finish on. The run is measured from when the tracker first saw it running, so the
    learned spread includes how precisely the queue polling caught the start.

    The eagerness is lowered where it would cost more than fixed polling every
    `dense_gap`: what the sparse start of a run saves pays for the dense window, and no
    more, so a short or widely spread run is never dearer than a fixed poller's.
    Where the tracker has seen failures cluster (`FailureTiming`), polls within that
    share of the run are at most `failure_gap` apart, so those failures are told fast —
    as far as the polls saved earlier in the run pay for it: a run never has more polls
    than fixed polling would have made by then, so an early window gets fixed polling's
    pace. An untrusted model gets `bound` alone, window or not.
    """

    def __init__(
        self,
        *,
        min_interval: float = 1.0,
        max_interval: float = 30.0,
        bound: LagBound | None = None,
        queue_bound: LagBound | None = None,
        eagerness: float = 1.8,
        dense_gap: float = 5.0,
        hedge: LagBound | None = None,
        failure_gap: float = 4.0,
        model: RunModel | None = None,
    ) -> None:
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.bound = bound or LagBound()
        self.queue_bound = queue_bound or LagBound(5.0, 0.25, max_interval)
        self.eagerness = eagerness
        self.dense_gap = dense_gap
        self.hedge = hedge or LagBound(floor=15.0, fraction=0.5, ceiling=max_interval)
        self.failure_gap = failure_gap
        self.model = model or RunModel()
        self._spent: dict[int, tuple[float, int]] = {}
        """Per job id: when its run was seen starting, and the polls asked for since."""

    @property
    def runs(self) -> RunModel:
        return self.model

    def record_run(self, kind: RunKind | int, seconds: float) -> None:
        """Teach the model one finished run (the tracker teaches it through its estimates)."""
        if seconds > 0 and _kind(kind).duration > 0:
            self.model.observe(kind, seconds)

    def expected_run(self, kind: RunKind | int) -> Expectation | None:
        """The learned run time for this kind of run (None before any run at all)."""
        return self.model.expect(kind)

    def next_delay(self, job: Job, now: float) -> float:
        started = job.entered(JobState.RUNNING)
        if job.state is not JobState.RUNNING or started is None:
            gap = self.queue_bound.gap(now - _queued_since(job))
            return _clamp(gap, self.min_interval, self.max_interval)
        elapsed = now - started
        spent = self._count_poll(job.id, started, elapsed)
        expected = self.model.expect(RunKind.of(job.request))
        if expected is None:
            return self._bounded(elapsed)
        if not self.model.trusts() or elapsed > expected.middle + LATE * expected.spread:
            return self._bounded(elapsed)
        window = self._failure_window(expected)
        likely_from = expected.middle - LIKELY * expected.spread
        dense = max(likely_from - elapsed, 0.0) + self.dense_gap
        hedged = min(dense, self._hedged(elapsed, window, spent))
        eagerness = self._eagerness(elapsed, spent, expected, window)
        return min(self._until_next_poll(elapsed, expected, eagerness), hedged)

    def _failure_window(self, expected: Expectation) -> tuple[float, float] | None:
        """Seconds into the run between which failures cluster, if they do."""
        shares = self.model.failures.window()
        if shares is None:
            return None
        return shares[0] * expected.middle, shares[1] * expected.middle

    def _polls_before(
        self, elapsed: float, likely_from: float, window: tuple[float, float] | None, spent: int
    ) -> int:
        """Polls the hedged pace makes from `elapsed` until the likely finish."""
        before, at = 0, elapsed + self._hedged(elapsed, window, spent)
        while at < likely_from:
            before += 1
            at += self._hedged(at, window, spent + before)
        return before

    def _hedged(self, elapsed: float, window: tuple[float, float] | None, spent: int) -> float:
        """The longest gap a guess may take: half the run so far, and `failure_gap` into
        and through the window where failures cluster — but never so close that the run
        has had more polls than fixed polling every `dense_gap` would have made by then
        (`spent` polls made, this one the next): a window early in a run, before anything
        was saved, is polled at fixed polling's pace."""
        gap = self.hedge.gap(elapsed)
        if window is not None and elapsed < window[1]:
            tight = max(window[0] - elapsed, 0.0) + self.failure_gap
            earliest = (spent + 1) * self.dense_gap - elapsed
            gap = min(gap, max(tight, earliest))
        return gap

    def forget(self, job_id: int) -> None:
        self._spent.pop(job_id, None)

    @property
    def runs_counted(self) -> int:
        return len(self._spent)

    def _count_poll(self, job_id: int, started: float, elapsed: float) -> int:
        """Polls asked for this run so far (the oldest runs are forgotten past `KEPT_RUNS`).
        A run first met well under way (after a restart or a take-over) is taken to have
        had fixed polling's count by then, so its finish is not polled densely on top."""
        seen = self._spent.pop(job_id, None)
        if seen is not None and seen[0] == started:
            count = seen[1] + 1
        else:
            count = 1 + int(max(elapsed, 0.0) // self.dense_gap)
        self._spent[job_id] = (started, count)
        if len(self._spent) > KEPT_RUNS:
            del self._spent[next(iter(self._spent))]
        return count - 1

    def _eagerness(
        self,
        elapsed: float,
        spent: int,
        expected: Expectation,
        window: tuple[float, float] | None,
    ) -> float:
        """`eagerness`, or less where the run's expected polls (those spent, those before
        the likely window, those by the hazard in it) would exceed polling every
        `dense_gap` over the whole expected run: what a sparse start saved pays for the
        dense window, and no more."""
        spread = max(expected.spread, self.min_interval)
        likely_from = max(expected.middle - LIKELY * spread, 0.0)
        run_left, polls = TAILS.at((max(elapsed, likely_from) - expected.middle) / spread)
        if polls <= 1e-9:
            return self.eagerness
        before = self._polls_before(elapsed, likely_from, window, spent)
        fixed = (max(likely_from, elapsed) + spread * run_left) / self.dense_gap
        budget = max(fixed - spent - before, 0.0)
        return min(self.eagerness, budget / (math.sqrt(spread) * polls))

    def _bounded(self, elapsed: float) -> float:
        return _clamp(self.bound.gap(elapsed), self.min_interval, self.max_interval)

    def _until_next_poll(self, elapsed: float, expected: Expectation, eagerness: float) -> float:
        """Seconds until the expected number of polls since `elapsed` reaches one."""
        middle, spread = expected.middle, max(expected.spread, self.min_interval)
        step = min(0.5, spread / 8.0)
        waited, polls = 0.0, 0.0
        while polls < 1.0 and waited < self.max_interval:
            z = min(LATE, (elapsed + waited + step / 2.0 - middle) / spread)
            polls += eagerness * math.sqrt(hazard(z) / spread) * step
            waited += step
        return _clamp(waited, self.min_interval, self.max_interval)


def _queued_since(job: Job) -> float:
    """When the job was handed to RunComfy (or, failing that, created)."""
    for state in (JobState.QUEUED, JobState.SUBMITTING):
        at = job.entered(state)
        if at is not None:
            return at
    return job.created_at
