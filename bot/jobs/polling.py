"""When to ask RunComfy about a job next.

RunComfy has no webhooks for the Model API, so the tracker polls. Fixed-interval
polling wastes requests early and delivers late; the adaptive schedule polls sparsely
while a job waits or has just started and densely around its expected finish, which
it learns from recent jobs of the same video length.
"""

from __future__ import annotations

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


class AdaptivePolling:
    """Sparse while queued or early in a run, dense near the expected finish."""

    def __init__(
        self,
        *,
        min_interval: float = 1.0,
        max_interval: float = 30.0,
        history: int = 20,
        prior_seconds_per_video_second: float = 12.0,
    ) -> None:
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._prior_rate = prior_seconds_per_video_second
        self._history_size = history
        self._runs: dict[int, deque[float]] = {}

    def record_run(self, duration: int, seconds: float) -> None:
        if seconds > 0:
            runs = self._runs.setdefault(duration, deque(maxlen=self._history_size))
            runs.append(seconds)

    def expected_run(self, duration: int) -> tuple[float, float]:
        """(typical run seconds, spread) for this video length: learned, else a prior."""
        runs = self._runs.get(duration)
        if runs and len(runs) >= 3:
            ordered = sorted(runs)
            middle = statistics.median(ordered)
            quartiles = statistics.quantiles(ordered, n=4)
            spread = max(quartiles[2] - quartiles[0], 0.05 * middle, self.min_interval)
            return middle, spread
        middle = self._prior_rate * duration
        return middle, 0.35 * middle

    def next_delay(self, job: Job, now: float) -> float:
        if job.state is JobState.QUEUED:
            position = job.queue_position or 0
            return _clamp(4.0 + 2.0 * position, 4.0, min(20.0, self.max_interval))
        started = job.entered(JobState.RUNNING)
        if job.state is not JobState.RUNNING or started is None:
            return _clamp(5.0, self.min_interval, self.max_interval)
        elapsed = now - started
        middle, spread = self.expected_run(job.request.effective_duration)
        window_start = middle - 1.5 * spread
        if elapsed < window_start:
            return _clamp(window_start - elapsed, self.min_interval, self.max_interval)
        window_end = middle + 2.0 * spread
        if elapsed < window_end:
            return _clamp(spread / 5.0, self.min_interval, 3.0)
        return _clamp(2.0 + (elapsed - window_end) / 4.0, 2.0, min(15.0, self.max_interval))
