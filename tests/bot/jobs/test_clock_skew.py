"""Two trackers sharing one PostgreSQL database whose clocks are an hour apart, as two
processes on hosts with different clocks would be. Every time a tracker writes or
compares (deadlines, retries, state times) is the database's, so the skew changes no
outcome: the process an hour off takes nothing over early, and a job it takes over is
cancelled at its deadline, not an hour before or after it."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.clock import Clock
from bot.jobs.model import Failure, JobState
from testkit.waiting import eventually
from tests.bot.jobs.shared_world import LEASE, World, die, fill_runcomfy, submit

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

DEADLINE = 30 * 60.0
"""Clock seconds (9 real seconds at the rig's speed)."""
SLACK = 400.0
"""Clock seconds (2 real seconds): a poll's turn, a cancel at RunComfy, this test's look."""


class SkewedClock:
    """The world's clock, as a host whose clock is `skew` seconds off reads it."""

    def __init__(self, base: Clock, skew: float) -> None:
        self._base = base
        self._skew = skew

    def now(self) -> float:
        return self._base.now() + self._skew

    def from_real(self, epoch: float) -> float:
        return self._base.from_real(epoch)

    def monotonic(self) -> float:
        return self._base.monotonic()

    async def sleep(self, seconds: float) -> None:
        await self._base.sleep(seconds)

    async def wait_for(self, event: asyncio.Event, within: float) -> bool:
        return await self._base.wait_for(event, within)

    def to_real(self, seconds: float) -> float:
        return self._base.to_real(seconds)


@pytest.mark.parametrize("skew", [3600.0, -3600.0], ids=["an hour ahead", "an hour behind"])
async def test_a_process_whose_clock_is_an_hour_off_changes_no_outcome(
    world: World, skew: float
) -> None:
    holder = await world.make("holder", deadline=DEADLINE)
    skewed = await world.make("skewed", deadline=DEADLINE, clock=SkewedClock(world.clock, skew))
    busy = await fill_runcomfy(world, holder)
    queued = await submit(holder, "queued behind them", user=3)
    await eventually(
        lambda: (job := holder.tracker.get(queued)) is not None and job.state is JobState.QUEUED,
        what="the job to be queued at RunComfy",
    )
    await asyncio.sleep(LEASE * 3)
    assert all(skewed.tracker.get(job_id) is None for job_id in [*busy, queued]), (
        "no early take-over"
    )

    await die(holder)
    await eventually(
        lambda: skewed.tracker.get(queued) is not None, within=10.0, what="the take-over"
    )
    deadline = time.monotonic() + 30.0
    while (stored := await skewed.store.get(queued)) is not None and not stored.state.is_final:
        assert time.monotonic() < deadline, f"still {stored.state} long after its deadline"
        await asyncio.sleep(0.05)
    seen_at = world.clock.now()

    assert stored is not None
    assert stored.state is JobState.CANCELLED
    assert stored.failure is Failure.NOT_STARTED_BY_DEADLINE
    assert stored.deadline_at is not None
    assert stored.deadline_at - SLACK <= seen_at <= stored.deadline_at + SLACK, (
        f"cancelled {seen_at - stored.deadline_at:+.0f} s from its deadline"
    )
    cancelled, submitted = stored.entered(JobState.CANCELLED), stored.entered(JobState.SUBMITTING)
    assert cancelled is not None
    assert submitted is not None
    assert DEADLINE - SLACK <= cancelled - submitted <= DEADLINE + SLACK, (
        "its times were written on one clock"
    )
    assert world.emulator.submit_count == 3, "nothing was sent twice"
