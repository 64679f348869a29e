"""The queue and the workers: jobs move in_queue → in_progress → completed / failed /
cancelled on a `Clock`, with `workers` jobs generating at once.

The simulation is lazy and event driven: every `advance()` replays only the completions
and queue releases due since the last one, so thousands of jobs cost O(log n) per request
and nothing runs between requests."""

from __future__ import annotations

import heapq
import math
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.clock import Clock

from .contract import CANCELLED, COMPLETED, FAILED, IN_PROGRESS, IN_QUEUE
from .jobs import EmulatedJob, JobOutcome

Timing = Callable[[Mapping[str, Any]], float]
OutcomeRule = Callable[[Mapping[str, Any]], JobOutcome]


class _Fenwick:
    """Prefix sums over job sequence numbers (1 = queued), growable by appending."""

    def __init__(self) -> None:
        self._tree: list[int] = [0]

    def _prefix(self, index: int) -> int:
        total = 0
        while index > 0:
            total += self._tree[index]
            index -= index & -index
        return total

    def append(self, value: int) -> None:
        index = len(self._tree)
        low = index - (index & -index)
        self._tree.append(value + self._prefix(index - 1) - self._prefix(low))

    def add(self, index: int, delta: int) -> None:
        while index < len(self._tree):
            self._tree[index] += delta
            index += index & -index

    def prefix(self, index: int) -> int:
        return self._prefix(index)


class JobBoard:
    """Every job, the queue in submit order, the running set and the held (delayed) jobs."""

    def __init__(
        self,
        clock: Clock,
        *,
        workers: int,
        generation_time: Timing,
        queue_delay: Timing | None,
        outcome: OutcomeRule | Sequence[JobOutcome] | None,
    ) -> None:
        if workers < 0:
            raise ValueError("workers must be 0 or more")
        self.clock = clock
        self.workers = workers
        self.generation_time = generation_time
        self.queue_delay = queue_delay
        self._outcome_rule = outcome if callable(outcome) else None
        self._scripted: deque[JobOutcome] = deque(
            () if outcome is None or callable(outcome) else outcome
        )
        self.jobs: dict[str, EmulatedJob] = {}
        self._by_seq: list[EmulatedJob] = []
        self._queue: deque[EmulatedJob] = deque()
        self._queued = _Fenwick()
        self._running: list[tuple[float, int, EmulatedJob]] = []
        self._held: list[tuple[float, int, EmulatedJob]] = []
        """Jobs still inside their `queue_delay`, by the time they may start."""

    def script(self, outcomes: Sequence[JobOutcome]) -> None:
        self._scripted.extend(outcomes)

    def set_workers(self, workers: int) -> None:
        if workers < 0:
            raise ValueError("workers must be 0 or more")
        self.advance()
        self.workers = workers
        self._start_waiting(self.clock.now())

    def advance(self, until: float | None = None) -> None:
        """Bring every job up to `until` (default `clock.now()`): finish due jobs and start
        queued ones. A request is answered as of the moment it was recorded, so a poll
        never reports a job finished at a time after the poll's own.

        Completions and the ends of queue delays are replayed in time order (a delay
        that ends at the same moment as a completion goes first).
        """
        now = self.clock.now() if until is None else until
        while True:
            finish = self._running[0][0] if self._running else math.inf
            release = self._held[0][0] if self._held else math.inf
            if min(finish, release) > now:
                return
            if release <= finish:
                released_at, _, job = heapq.heappop(self._held)
                if job.status == IN_QUEUE:
                    self._queue.append(job)
                self._start_waiting(released_at)
                continue
            finished_at, _, job = heapq.heappop(self._running)
            job.finished_at = finished_at
            job.status = COMPLETED if job.outcome.kind == "complete" else FAILED
            self._start_waiting(finished_at)

    def finish_now(self, job: EmulatedJob) -> None:
        """A job generating finishes at once (its end comes forward to now)."""
        self.advance()
        now = self.clock.now()
        self._running = [
            (min(at, now) if running is job else at, seq, running)
            for at, seq, running in self._running
        ]
        heapq.heapify(self._running)
        self.advance()

    def _start_waiting(self, at: float) -> None:
        while len(self._running) < self.workers and self._queue:
            job = self._queue.popleft()
            if job.status != IN_QUEUE:
                continue
            job.status = IN_PROGRESS
            job.started_at = at
            self._queued.add(job.seq, -1)
            heapq.heappush(self._running, (at + job.generation_time, job.seq, job))

    def create(self, payload: dict[str, Any]) -> EmulatedJob:
        self.advance()
        now = self.clock.now()
        if self._scripted:
            outcome = self._scripted.popleft()
        elif self._outcome_rule is not None:
            outcome = self._outcome_rule(payload)
        else:
            outcome = JobOutcome.complete()
        job = EmulatedJob(
            request_id=str(uuid.uuid4()),
            seq=len(self._by_seq) + 1,
            payload=payload,
            generation_time=max(0.0, float(self.generation_time(payload))),
            outcome=outcome,
            submitted_at=now,
            queue_delay=max(0.0, float(self.queue_delay(payload))) if self.queue_delay else 0.0,
        )
        self.jobs[job.request_id] = job
        self._by_seq.append(job)
        self._queued.append(1)
        if job.queue_delay > 0:
            heapq.heappush(self._held, (now + job.queue_delay, job.seq, job))
        else:
            self._queue.append(job)
        self._start_waiting(now)
        return job

    def cancel(self, job: EmulatedJob) -> str:
        """Cancel a queued job; the outcome RunComfy reports (`not_cancellable` once started)."""
        if job.status == IN_QUEUE:
            job.status = CANCELLED
            job.finished_at = self.clock.now()
            self._queued.add(job.seq, -1)
        return CANCELLED if job.status == CANCELLED else "not_cancellable"

    def jobs_ahead(self, job: EmulatedJob) -> int:
        """Jobs submitted before this one and still queued."""
        return self._queued.prefix(job.seq - 1)

    @property
    def queued_count(self) -> int:
        return self._queued.prefix(len(self._by_seq))

    @property
    def running_count(self) -> int:
        return len(self._running)
