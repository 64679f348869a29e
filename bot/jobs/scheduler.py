"""Time and tasks for the tracker: when each job next needs attention, and every task
started for it — named, owned, cancelled on close, and every failure logged.

One loop keeps a heap of due times (one per job, the earliest wins); each turn it says
`TurnBegins` on the bus (the line is released there), then `JobDue` for each due job.
The same heap holds one reminder per job (the latest asked for wins), said as
`ReminderDue` when it comes: a status card's estimate passing needs no timer of its own.
Actions run as tasks of their own, at most one per job at a time, so a slow RunComfy or
Discord call never holds up the others. In the spirit of python-discord's `Scheduler`,
but keyed by job and driven by an injectable clock.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.clock import Clock
from bot.jobs.events import EventBus, JobDue, ReminderDue, TurnBegins

log = logging.getLogger(__name__)

COMPACT_FACTOR = 2
COMPACT_SLACK = 64
"""The heap is rebuilt once it holds more than twice the live times, plus this."""
IDLE_WAKEUP = 3600.0
"""Clock seconds the loop sleeps when nothing is due (anything new wakes it at once)."""


class Scheduler:
    def __init__(
        self,
        clock: Clock,
        bus: EventBus,
        *,
        crash_retry_delay: float,
        quiet: tuple[type[BaseException], ...] = (),
        quiet_retry_delay: float = 5.0,
    ) -> None:
        self._clock = clock
        self._bus = bus
        self._crash_retry_delay = crash_retry_delay
        self._quiet = quiet
        self._quiet_retry_delay = quiet_retry_delay
        self._heap: list[tuple[float, int, int]] = []
        self._due: dict[int, float] = {}
        self._reminders: dict[int, float] = {}
        self._seq = itertools.count()
        self._busy: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wakeup = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def closing(self) -> bool:
        return self._closing

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="job-scheduler")

    def at(self, job_id: int, when: float) -> None:
        """Make the job due at `when`, unless it is already due earlier."""
        current = self._due.get(job_id)
        if current is not None and current <= when:
            return
        self._due[job_id] = when
        heapq.heappush(self._heap, (when, next(self._seq), job_id))
        self._compact_if_stale()
        self._wakeup.set()

    def remind(self, job_id: int, when: float) -> None:
        """Say `ReminderDue` for the job at `when`, instead of any earlier reminder."""
        if self._reminders.get(job_id) == when:
            return
        self._reminders[job_id] = when
        heapq.heappush(self._heap, (when, next(self._seq), job_id))
        self._compact_if_stale()
        self._wakeup.set()

    def forget(self, job_id: int) -> None:
        self._due.pop(job_id, None)
        self._reminders.pop(job_id, None)
        self._compact_if_stale()

    def _compact_if_stale(self) -> None:
        live = len(self._due) + len(self._reminders)
        if len(self._heap) > COMPACT_FACTOR * live + COMPACT_SLACK:
            self._compact()

    def _compact(self) -> None:
        """Rebuild the heap from the live times alone. A replaced or forgotten time stays
        in the heap until it comes up, and reminders and deadlines lie far ahead: without
        this, every job a busy bot has finished would leave its times behind for hours."""
        live = [(when, next(self._seq), job_id) for job_id, when in self._due.items()]
        live += [(when, next(self._seq), job_id) for job_id, when in self._reminders.items()]
        heapq.heapify(live)
        self._heap = live

    @property
    def kept_times(self) -> int:
        """Entries in the heap, live or not (at most a few times the live ones)."""
        return len(self._heap)

    @property
    def jobs_due(self) -> int:
        """Jobs with a due time."""
        return len(self._due)

    @property
    def reminders(self) -> int:
        """Jobs with a reminder."""
        return len(self._reminders)

    def wake(self) -> None:
        self._wakeup.set()

    def is_alive(self) -> bool:
        return self._loop is not None and not self._loop.done()

    def run_for(
        self,
        job_id: int,
        action: Callable[[int], Awaitable[None]],
        *,
        name: str,
        context: contextvars.Context | None = None,
    ) -> None:
        """Run one action for a job as an owned task; a crash is logged and the job comes
        due again after `crash_retry_delay`, so one bad job never stops the others. A
        `quiet` failure (one reported elsewhere, such as a refused database write) is not
        logged again and comes due after `quiet_retry_delay`."""
        self._busy.add(job_id)

        async def run() -> None:
            try:
                await action(job_id)
            except asyncio.CancelledError:
                raise
            except self._quiet:
                self.at(job_id, self._clock.now() + self._quiet_retry_delay)
            except Exception:
                log.exception(
                    "job %d: unexpected error; trying again in %.0f s",
                    job_id,
                    self._crash_retry_delay,
                )
                self.at(job_id, self._clock.now() + self._crash_retry_delay)
            finally:
                self._busy.discard(job_id)

        self.spawn(run(), name=f"{name}-{job_id}", context=context)

    def spawn(
        self,
        coroutine: Coroutine[Any, Any, None],
        *,
        name: str,
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[None]:
        """An owned task: kept referenced until done, cancelled on `close`."""
        task = asyncio.create_task(coroutine, name=name, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def pause(self) -> None:
        """Closing: no job comes due any more; the tasks under way go on until `close`."""
        self._closing = True
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)

    async def close(self) -> None:
        """Stop the loop and cancel every task this scheduler owns."""
        self._closing = True
        tasks = [*self._tasks, *([self._loop] if self._loop else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._loop = None

    async def _run(self) -> None:
        while not self._closing:
            self._wakeup.clear()
            now = self._clock.now()
            self._bus.publish(TurnBegins(now))
            while self._heap and self._heap[0][0] <= now:
                when, _, job_id = heapq.heappop(self._heap)
                if self._reminders.get(job_id) == when:
                    del self._reminders[job_id]
                    self._bus.publish(ReminderDue(job_id))
                if self._due.get(job_id) != when:
                    continue
                del self._due[job_id]
                if job_id not in self._busy:
                    self._bus.publish(JobDue(job_id))
            delay = self._heap[0][0] - self._clock.now() if self._heap else IDLE_WAKEUP
            await self._clock.wait_for(self._wakeup, max(0.0, delay))
