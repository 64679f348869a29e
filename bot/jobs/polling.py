"""When to ask RunComfy about a job next.

RunComfy has no webhooks for the Model API, so the tracker polls. Fixed-interval
polling wastes requests early and delivers late; the adaptive schedule polls a queued
job at a steady, moderate pace and a running one as often as the chance that it has
just finished warrants, which it learns from recent jobs of the same video length.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from typing import Protocol

from bot.jobs.model import Job, JobState


class PollPolicy(Protocol):
    def next_delay(self, job: Job, now: float) -> float:
        """Seconds until the next status/result request for a queued or running job."""
        ...

    def record_run(self, duration: int, seconds: float) -> None:
        """Learn from a finished job: its video length and how long it ran."""
        ...


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class FixedPolling:
    """The naive schedule, kept as a setting and as the benchmark's baseline."""

    def __init__(self, interval: float) -> None:
        self.interval = interval

    def next_delay(self, job: Job, now: float) -> float:
        return self.interval

    def record_run(self, duration: int, seconds: float) -> None:
        return None


LATE = 3.0
"""A run this many spreads past the typical one is late: polling backs off instead."""


def _hazard(z: float) -> float:
    """The standard normal's hazard rate: the chance density of finishing now, given not yet."""
    survival = 0.5 * math.erfc(z / math.sqrt(2.0))
    if survival < 1e-12:
        return max(z, 0.0)
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) / survival


class AdaptivePolling:
    """A steady pace while queued; while running, polls placed by the chance of finishing.

    A running job's run time is modelled as roughly normal with the median and the
    interquartile spread of recent runs of the same video length (before that: the
    per-second rate of all recent runs, then a prior). Polls come at a rate of
    `eagerness * sqrt(hazard / spread)`: the square root is the classic balance between
    the cost of a request and the cost of noticing late, so the schedule is sparse while
    finishing is unlikely, dense around the expected finish, and densest for a job that
    is late. The run is measured from when the tracker first saw it running, so the
    learned spread includes how precisely the queue polling caught the start.
    """

    def __init__(
        self,
        *,
        min_interval: float = 1.0,
        max_interval: float = 30.0,
        queue_interval: float = 12.0,
        eagerness: float = 1.5,
        history: int = 50,
        min_runs: int = 5,
        prior_seconds_per_video_second: float = 12.0,
        prior_relative_spread: float = 0.2,
    ) -> None:
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.queue_interval = queue_interval
        self.eagerness = eagerness
        self.min_runs = min_runs
        self._prior_rate = prior_seconds_per_video_second
        self._prior_spread = prior_relative_spread
        self._history_size = history
        self._runs: dict[int, deque[float]] = {}
        self._rates: deque[float] = deque(maxlen=4 * history)
        self._models: dict[int, tuple[float, float]] = {}

    def record_run(self, duration: int, seconds: float) -> None:
        if seconds <= 0 or duration <= 0:
            return
        self._runs.setdefault(duration, deque(maxlen=self._history_size)).append(seconds)
        self._rates.append(seconds / duration)
        self._models.clear()

    def expected_run(self, duration: int) -> tuple[float, float]:
        """(typical run seconds, spread as a standard deviation) for this video length."""
        model = self._models.get(duration)
        if model is None:
            model = self._models[duration] = self._estimate(duration)
        return model

    def _estimate(self, duration: int) -> tuple[float, float]:
        runs = self._runs.get(duration)
        if runs is not None and len(runs) >= self.min_runs:
            samples = list(runs)
        elif len(self._rates) >= self.min_runs:
            samples = [rate * duration for rate in self._rates]
        else:
            middle = self._prior_rate * duration
            return middle, self._prior_spread * middle
        middle = statistics.median(samples)
        quartiles = statistics.quantiles(samples, n=4)
        spread = (quartiles[2] - quartiles[0]) / 1.349  # the IQR of a normal, in σ
        return middle, max(spread, 0.02 * middle, self.min_interval)

    def next_delay(self, job: Job, now: float) -> float:
        if job.state is JobState.QUEUED:
            position = job.queue_position
            if position is None:
                return self.queue_interval
            return _clamp(3.0 + position, 3.0, self.queue_interval)
        started = job.entered(JobState.RUNNING)
        if job.state is not JobState.RUNNING or started is None:
            return _clamp(5.0, self.min_interval, self.max_interval)
        middle, spread = self.expected_run(job.request.effective_duration)
        elapsed = now - started
        late = elapsed - (middle + LATE * spread)
        if late > 0:
            # Far beyond anything seen: the model no longer describes this job; back off.
            return _clamp(2.0 + late / 4.0, 2.0, min(15.0, self.max_interval))
        return self._until_next_poll(elapsed, middle, spread)

    def _until_next_poll(self, elapsed: float, middle: float, spread: float) -> float:
        """Seconds until the expected number of polls since `elapsed` reaches one."""
        step = min(0.5, spread / 8.0)
        waited, expected = 0.0, 0.0
        while expected < 1.0 and waited < self.max_interval:
            z = min(LATE, (elapsed + waited + step / 2.0 - middle) / spread)
            expected += self.eagerness * math.sqrt(_hazard(z) / spread) * step
            waited += step
        return _clamp(waited, self.min_interval, self.max_interval)
