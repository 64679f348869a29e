"""How right the status card's estimate is, measured in the polling benchmark's regimes.

At every change of a job's state while its video is waited for (waiting in line, being
sent, queued, running) the observer asks the tracker for the estimate a status card
would show then; once the job is delivered, each estimate's error is |estimate −
delivery| divided by the time that was actually left at that change. Jobs that fail
have no delivery and are left out. The benchmark has no Discord: a notifier that posts
at once stands in, so "delivery" is when the tracker recorded the video as posted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.jobs.eta import Eta
from bot.jobs.model import Job, JobState
from testkit.stats import percentile

WAITED = frozenset({JobState.WAITING, JobState.SUBMITTING, JobState.QUEUED, JobState.RUNNING})


@dataclass(frozen=True, slots=True)
class EtaAccuracy:
    """Relative errors of the estimates: how many, their median and 90th percentile."""

    count: int
    p50: float
    p90: float

    @classmethod
    def of(cls, errors: Iterable[float]) -> EtaAccuracy:
        data = list(errors)
        return cls(len(data), percentile(data, 0.5), percentile(data, 0.9))


NO_ESTIMATES = EtaAccuracy.of([])


class Estimates:
    """A `JobObserver` that keeps each job's estimate at each change of its state, and
    when its video was posted."""

    def __init__(self, estimate: Callable[[Job], Eta | None] | None = None) -> None:
        self.estimate = estimate
        self._states: dict[int, JobState] = {}
        self.said: dict[int, list[tuple[float, float]]] = {}
        """Per job: (when the state changed, the estimate then)."""
        self.delivered: dict[int, float] = {}

    def job_changed(self, job: Job) -> None:
        if self._states.get(job.id) is job.state:
            return
        self._states[job.id] = job.state
        at = job.entered(job.state)
        if at is None:
            return
        if job.state is JobState.DELIVERED:
            self.delivered[job.id] = at
        elif job.state in WAITED and self.estimate is not None:
            eta = self.estimate(job)
            if eta is not None:
                self.said.setdefault(job.id, []).append((at, eta.at))

    def errors(self) -> list[float]:
        """|estimate − delivery| ÷ the time left, for every estimate of a delivered job."""
        errors = []
        for job_id, posted in self.delivered.items():
            for at, expected in self.said.get(job_id, []):
                left = posted - at
                if left > 0:
                    errors.append(abs(expected - posted) / left)
        return errors

    def accuracy(self) -> EtaAccuracy:
        return EtaAccuracy.of(self.errors())


class PostsAtOnce:
    """A `Notifier` standing in for Discord: every final message is posted at once."""

    async def send_notice(self, job: Job) -> int | None:
        return job.id
