"""The book's jobs by where they stand in the line, kept as each one changes: the jobs
waiting in it, and the jobs holding a slot at RunComfy, counted per member, per server
and in all. Releasing the line reads these instead of every job the tracker holds, so a
release costs what the line holds, not what the bot tracks (a scan of every job per
release made a busy bot's CPU grow with the square of its jobs)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.jobs.model import ACTIVE_STATES, Job, JobState

MemberKey = tuple[int | None, int]
"""A member in a server: (server id, member id)."""


@dataclass(slots=True)
class SlotCounts:
    """Slots held at RunComfy: per member in a server, per server, and in all."""

    by_member: Counter[MemberKey] = field(default_factory=Counter)
    by_server: Counter[int | None] = field(default_factory=Counter)
    running: int = 0

    @classmethod
    def of(cls, jobs: Iterable[Job]) -> SlotCounts:
        counts = cls()
        for job in jobs:
            counts.add(job)
        return counts

    def add(self, job: Job, count: int = 1) -> None:
        member, server = (job.guild_id, job.requester_id), job.guild_id
        self.by_member[member] += count
        self.by_server[server] += count
        self.running += count
        if not self.by_member[member]:
            del self.by_member[member]
        if not self.by_server[server]:
            del self.by_server[server]


class LineIndex:
    """Waiting jobs (in the order they came) and the jobs holding slots, with their counts."""

    def __init__(self) -> None:
        self.waiting: dict[int, Job] = {}
        self.active: dict[int, Job] = {}
        self.counts = SlotCounts()
        self._arrivals: list[int] = []
        """The jobs that joined the line since the release last took them, in order (a
        job may have left again since)."""
        self.held_until: dict[int, float] = {}
        """Waiting jobs told to wait until a time (`Job.not_before`)."""

    def take_arrivals(self) -> list[int]:
        """The jobs that joined the line since the last call, oldest first, each once."""
        arrivals, self._arrivals = list(dict.fromkeys(self._arrivals)), []
        return arrivals

    def replace(self, previous: Job | None, job: Job | None) -> None:
        """The book replaced `previous` by `job` (either may be None: taken in, let go)."""
        was_waiting = previous is not None and previous.state is JobState.WAITING
        is_waiting = job is not None and job.state is JobState.WAITING
        if previous is not None and previous.state in ACTIVE_STATES:
            del self.active[previous.id]
            self.counts.add(previous, -1)
        if was_waiting:
            assert previous is not None
            self.held_until.pop(previous.id, None)
            if not is_waiting:
                del self.waiting[previous.id]
        if is_waiting and not was_waiting:
            assert job is not None
            self._arrivals.append(job.id)
        if job is None:
            return
        if is_waiting:
            self.waiting[job.id] = job
            if job.not_before is not None:
                self.held_until[job.id] = job.not_before
        elif job.state in ACTIVE_STATES:
            self.active[job.id] = job
            self.counts.add(job)
