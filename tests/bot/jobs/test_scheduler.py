"""The scheduler owns time and tasks: due jobs in order, one action per job at a time,
crashes logged and retried, every task cancelled on close."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.clock import ScaledClock
from bot.jobs.events import EventBus, JobDue
from bot.jobs.scheduler import Scheduler
from testkit.waiting import eventually


def make(dispatched: list[int], clock: ScaledClock) -> Scheduler:
    bus = EventBus()
    bus.subscribe(JobDue, lambda due: dispatched.append(due.job_id))
    return Scheduler(clock, bus, crash_retry_delay=5.0)


async def test_due_jobs_are_dispatched_in_time_order_and_the_earliest_due_wins() -> None:
    clock = ScaledClock(1000)
    dispatched: list[int] = []
    scheduler = make(dispatched, clock)
    now = clock.now()
    scheduler.at(1, now + 30)
    scheduler.at(2, now + 10)
    scheduler.at(1, now + 20)
    scheduler.at(1, now + 60)
    scheduler.start()
    await eventually(lambda: len(dispatched) == 2, within=2)
    assert dispatched == [2, 1]
    await asyncio.sleep(0.1)
    assert dispatched == [2, 1], "a later time never replaces an earlier one"
    await scheduler.close()


async def test_a_crashing_action_is_logged_and_comes_due_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ScaledClock(1000)
    dispatched: list[int] = []
    scheduler = make(dispatched, clock)
    scheduler.start()

    async def crash(job_id: int) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        scheduler.run_for(7, crash, name="poll")
        await eventually(lambda: dispatched == [7], within=2)
    assert "job 7: unexpected error" in caplog.text
    await scheduler.close()


async def test_close_cancels_every_owned_task() -> None:
    clock = ScaledClock(1)
    scheduler = make([], clock)
    scheduler.start()
    started = asyncio.Event()

    async def hang(job_id: int) -> None:
        started.set()
        await asyncio.Event().wait()

    scheduler.run_for(1, hang, name="poll")
    task = scheduler.spawn(asyncio.Event().wait(), name="other")  # type: ignore[arg-type]
    await started.wait()
    assert scheduler.is_alive()
    await scheduler.close()
    assert task.cancelled()
    assert not scheduler.is_alive()


async def test_times_of_jobs_let_go_do_not_pile_up_in_the_heap() -> None:
    """Due times and reminders far ahead (a job's estimate, its deadline) of jobs that were
    forgotten long before: the heap keeps nothing near that many; what is still due still
    comes due, in order."""
    clock = ScaledClock(1000)
    dispatched: list[int] = []
    scheduler = make(dispatched, clock)
    now = clock.now()
    for job_id in range(1, 5001):
        scheduler.at(job_id, now + 3600 + job_id)
        scheduler.remind(job_id, now + 7200 + job_id)
        scheduler.forget(job_id)
    scheduler.at(9001, now + 2)
    scheduler.at(9000, now + 1)
    assert scheduler.kept_times <= 200, scheduler.kept_times
    scheduler.start()
    await eventually(lambda: dispatched == [9000, 9001], within=2)
    await scheduler.close()


async def test_reminders_moved_again_and_again_leave_no_trail() -> None:
    """A job whose estimate moves keeps one reminder; the ones it replaced go too."""
    clock = ScaledClock(1000)
    scheduler = make([], clock)
    now = clock.now()
    for step in range(5000):
        scheduler.remind(1, now + 3600 - step * 0.1)
    assert scheduler.reminders == 1
    assert scheduler.kept_times <= 100, scheduler.kept_times
    await scheduler.close()
