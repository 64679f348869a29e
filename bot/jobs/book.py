"""The tracker's book of unfinished jobs: kept in memory, one lock per job, and one way to
record a change — written to the store, then kept in memory, then said on the bus
(`JobCommitted`, for the other rooms), then told to observers, in that order, so a
restart at any point resumes from what the store says."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.jobs.events import EventBus, JobCommitted, JobLetGo
from bot.jobs.leases import LeaseLost, NoRoom, Room
from bot.jobs.model import Failure, Job, JobState, NoticeState, is_open
from bot.jobs.ports import JobObserver, JobStorage, StoreError
from bot.jobs.slots import LineIndex
from bot.jobs.store_health import StoreHealth

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _JobLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    """Holders and waiters: the lock is kept while anyone holds or awaits it."""


class JobBook:
    def __init__(self, store: JobStorage, *, bus: EventBus, clock: Clock) -> None:
        self.store = store
        self.health = StoreHealth(clock.now, bus=bus)
        self._bus = bus
        self._clock = clock
        self._jobs: dict[int, Job] = {}
        self.line = LineIndex()
        """The jobs waiting in line and holding slots, kept with every change of `_jobs`."""
        self._locks: dict[int, _JobLock] = {}
        self._observers: list[JobObserver] = []

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def require(self, job_id: int) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def load(self, job: Job) -> None:
        """Take in a job read back from the store at start-up."""
        self._put(job)

    def drop(self, job_id: int) -> None:
        """Let go of a job that never got going (its row is settled by whoever dropped it,
        or at the next start)."""
        self.line.replace(self._jobs.pop(job_id, None), None)

    def _put(self, job: Job) -> None:
        self.line.replace(self._jobs.get(job.id), job)
        self._jobs[job.id] = job

    async def reload(self, job: Job) -> Job | None:
        """The row of a job this process holds, as it is now (another process may have
        left something on it, see `JobStorage.leave_request_id`): kept in memory if still
        open, let go if not (None)."""
        current = await self.store.get(job.id)
        if current is not None and current.version == job.version:
            return job
        if current is None or not is_open(current):
            self.drop(job.id)
            self._bus.publish(JobLetGo(job.id))
            return None
        self._put(current)
        return current

    async def fetch(self, job_id: int) -> Job | None:
        """Any job: from memory when unfinished, else from the store."""
        return self._jobs.get(job_id) or await self.store.get(job_id)

    def open_jobs(self, guild_id: int | None = None) -> list[Job]:
        """Jobs not yet finished (optionally of one server), oldest first."""
        jobs = (
            job
            for job in self._jobs.values()
            if (guild_id is None or job.guild_id == guild_id) and not job.state.is_final
        )
        return sorted(jobs, key=lambda job: job.id)

    @contextlib.asynccontextmanager
    async def lock(self, job_id: int) -> AsyncIterator[None]:
        """Hold the job's lock: one change of a job at a time. A job's lock exists only
        while someone holds or awaits it, so a finished job (or a button pressed on one
        long gone) leaves nothing behind, and a job that closes while others wait on
        its lock never gets a second lock beside the first."""
        entry = self._locks.get(job_id)
        if entry is None:
            entry = self._locks[job_id] = _JobLock()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if not entry.users and self._locks.get(job_id) is entry:
                del self._locks[job_id]

    @property
    def locks_in_use(self) -> int:
        """Jobs whose lock is held or awaited right now."""
        return len(self._locks)

    def is_current(self, job: Job) -> bool:
        """Whether `job` is still the latest version (nothing changed it meanwhile)."""
        return self._jobs.get(job.id) is job

    async def commit(self, job: Job, *, room: Room | None = None) -> Job:
        """Persist, then update memory, then tell observers — in that order; returns the
        job as stored (its version one more). A refused write raises `StoreError` and
        changes nothing (the store's health says it once). With `room`, the write happens
        only if the jobs at RunComfy leave room for this one (else `NoRoom`). A job another
        process has taken over, or whose row moved on since this copy was read, is let go
        (`LeaseLost`): whoever holds the row next settles it from what the row says."""
        try:
            if room is None:
                job = await self.store.save(job)
            else:
                admitted = await self.store.save_if_room(job, room)
                if admitted is None:
                    raise NoRoom(job.id)
                job = admitted
        except StoreError as error:
            self.health.failed(error)
            raise
        except LeaseLost as lost:
            log.warning("job %d: %s; letting it go", job.id, lost)
            self.drop(job.id)
            self._bus.publish(JobLetGo(job.id))
            raise
        self.health.succeeded()
        previous = self._jobs.get(job.id)
        if is_open(job):
            self._put(job)
        else:
            self.drop(job.id)
        self._bus.publish(JobCommitted(previous, job))
        self.announce(job)
        return job

    async def annotate(self, job_id: int, **changes: Any) -> Job:
        """Record caller-owned facts on a job in any state, open or finished."""
        async with self.lock(job_id):
            job = await self.fetch(job_id)
            if job is None:
                raise KeyError(job_id)
            return await self.commit(job.update(self._clock.now(), **changes))

    async def finish(
        self,
        job: Job,
        state: JobState,
        failure: Failure | None,
        detail: str | None = None,
        *,
        at: float,
        **changes: Any,
    ) -> Job:
        """End a job's run (a video, a failure, a cancel); its final message is now due."""
        fields: dict[str, Any] = {
            "failure": failure,
            "failure_detail": detail,
            "notice": NoticeState.PENDING,
            **changes,
        }
        return await self.commit(job.transition(state, at, **fields))

    # ------------------------------------------------------------------ observers

    @property
    def observers(self) -> tuple[JobObserver, ...]:
        return tuple(self._observers)

    def add_observer(self, observer: JobObserver) -> None:
        self._observers.append(observer)

    def remove_observer(self, observer: JobObserver) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def announce(self, job: Job) -> None:
        for observer in list(self._observers):
            try:
                observer.job_changed(job)
            except Exception:
                log.exception("observer %r failed on job %d", observer, job.id)
