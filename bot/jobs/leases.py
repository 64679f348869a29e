"""Which process works on which job.

One SQLite process holds every job; there is nothing to share (`LocalLeases`). When
several processes share one PostgreSQL database (`bot.store.pg_leases`), each open job is
held by at most one of them under a lease its holder renews: the holder alone submits,
polls and delivers it, every write it makes is fenced by the lease and by the row's
version (a process whose lease ran out cannot overwrite the new holder, nor reopen a job
the new holder finished), and when a holder dies another process takes its jobs over: at
once where its death is seen directly (PostgreSQL's liveness locks), else when its leases
run out. Limits that span processes (a member's or a server's jobs at RunComfy, the bot's
total) are decided by the database at the moment a job is marked as being submitted
(`Room`).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.jobs.line import ServerLimits
from bot.jobs.model import Job


class LeaseLost(Exception):
    """Another process holds this job now (our lease ran out and it took the job over)."""

    def __init__(self, job_id: int, holder: str | None) -> None:
        super().__init__(f"job {job_id} is held by {holder or 'another process'} now")
        self.job_id = job_id
        self.holder = holder


class JobChanged(LeaseLost):
    """The job's row moved on since this copy of it was read (another write landed first):
    the copy may not be written, as if its lease were lost."""

    def __init__(self, job_id: int, holder: str | None, version: int) -> None:
        super().__init__(job_id, holder)
        self.version = version

    def __str__(self) -> str:
        return f"job {self.job_id} was changed elsewhere since version {self.version}"


class NoRoom(Exception):
    """The database says a limit is reached across every process: the job waits."""


@dataclass(frozen=True, slots=True)
class Room:
    """The limits a job must fit when it is marked as being submitted: its server's, and
    the bot's total."""

    limits: ServerLimits
    total: int
    """The bot's jobs at RunComfy, across every server and process."""


def process_name() -> str:
    """A name for this process that no other process, here or on another host, shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobLeases(Protocol):
    """How a tracker learns which open jobs are its own."""

    @property
    def shared(self) -> bool:
        """Whether other processes share the jobs (the tracker then renews and takes over)."""

    @property
    def interval(self) -> float:
        """Real seconds between two renewals (a fraction of the lease)."""

    @property
    def claim_interval(self) -> float:
        """Real seconds between two looks for jobs to take over (at most `interval`;
        shorter where a dead holder is seen at once)."""

    async def claim(self, *, limit: int) -> list[Job]:
        """Take open jobs nobody holds (or whose holder's lease ran out) and return them."""

    async def renew(self, job_ids: Iterable[int]) -> set[int]:
        """Extend this process's leases on `job_ids` (the jobs it works on; a row it let go
        of runs out and is settled by whoever takes it next); returns those it still holds."""

    async def let_go(self) -> None:
        """Give every lease up now (a clean shutdown), so others take over at once."""

    async def database_time(self) -> float | None:
        """The time every process sharing the jobs agrees on (the database's, in Unix
        seconds); None when no other process shares them (the process's own clock is
        the only one)."""


class LocalLeases:
    """One process on its own database holds every job: it reads them all at start-up."""

    def __init__(self, store: _OpenJobs) -> None:
        self._store = store
        self._claimed = False

    @property
    def shared(self) -> bool:
        return False

    @property
    def interval(self) -> float:
        return 0.0

    @property
    def claim_interval(self) -> float:
        return 0.0

    async def claim(self, *, limit: int) -> list[Job]:
        if self._claimed:
            return []
        self._claimed = True
        return await self._store.load_open()

    async def renew(self, job_ids: Iterable[int]) -> set[int]:
        return set(job_ids)

    async def let_go(self) -> None:
        return None

    async def database_time(self) -> float | None:
        return None


class _OpenJobs(Protocol):
    async def load_open(self) -> list[Job]: ...
