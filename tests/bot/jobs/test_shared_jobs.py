"""Two trackers sharing one PostgreSQL database, as two bot processes would: a dead one's jobs
are taken over and delivered once, a Cancel pressed in the other process is carried out by
the holder, and leaving a server stops the jobs every process holds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.jobs.line import TooManyJobs
from bot.jobs.model import Failure, JobOrigin, JobState
from bot.jobs.tracker import CancelOutcomeKind
from bot.runcomfy.request import KlingRequest
from testkit.waiting import eventually
from tests.bot.jobs.shared_world import Process, World, die, fill_runcomfy, submit
from tests.bot.jobs.test_departures import GoneHere

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


async def test_a_dead_process_jobs_are_taken_over_and_delivered_once(world: World) -> None:
    first = await world.make("first")
    second = await world.make("second")
    ids = [await submit(first, f"prompt {n}", user=n) for n in range(6)]
    await eventually(
        lambda: (
            sum(1 for job_id in ids if first.tracker.get(job_id) is not None) == 6
            and world.emulator.submit_count >= 2
        ),
        what="the first process to submit",
    )
    await die(first)
    for job_id in ids:
        await eventually(
            lambda job_id=job_id: job_id in world.notifier.posted,
            within=30.0,
            what=f"job {job_id} to be delivered by the survivor",
        )
    for job_id in ids:
        stored = await second.store.get(job_id)
        assert stored is not None
        assert stored.state in (JobState.DELIVERED, JobState.SUBMISSION_UNKNOWN)
    submits = world.submits_per_prompt()
    assert max(submits.values()) == 1
    assert sum(1 for job_id in ids if world.notifier.calls_for(job_id)) == len(ids)


async def test_a_cancel_pressed_in_another_process_is_done_by_the_holder(world: World) -> None:
    holder = await world.make("holder")
    other = await world.make("other")
    busy = await fill_runcomfy(world, holder)
    waiting_at_runcomfy = await submit(holder, "queued behind them", user=3)
    await eventually(
        lambda: (
            (job := holder.tracker.get(waiting_at_runcomfy)) is not None
            and job.state is JobState.QUEUED
        ),
        what="the third job to be queued at RunComfy",
    )
    report = await other.tracker.cancel(waiting_at_runcomfy, by=3)
    assert report.outcome is CancelOutcomeKind.CANCELLED
    stored = await other.store.get(waiting_at_runcomfy)
    assert stored is not None
    assert stored.state is JobState.CANCELLED
    assert stored.cancelled_by == 3
    running = await other.tracker.cancel(busy[0], by=0)
    assert running.outcome in (CancelOutcomeKind.ALREADY_RUNNING, CancelOutcomeKind.CANCELLED)


async def test_a_cancel_nobody_can_carry_out_says_so(world: World) -> None:
    holder = await world.make("holder")
    other = await world.make("other")
    job_id = await submit(holder, "held by a process that is gone")
    await die(holder)
    report = await other.tracker.cancel(job_id, by=1)
    assert report.outcome in (CancelOutcomeKind.UNREACHABLE, CancelOutcomeKind.CANCELLED)


async def test_leaving_a_server_stops_the_jobs_every_process_holds(world: World) -> None:
    holder = await world.make("holder")
    other = await world.make("other")
    busy = await fill_runcomfy(world, holder)
    waiting = await submit(holder, "still waiting", user=5)
    elsewhere = await submit(holder, "another server", user=6, guild=200)
    await eventually(
        lambda: (job := holder.tracker.get(waiting)) is not None and job.state is JobState.QUEUED,
        what="the job to be queued",
    )
    assert await other.tracker.abandon(guild_id=100, failure=Failure.SERVER_LEFT) == 0
    await eventually(
        lambda: holder.tracker.get(waiting) is None, what="the holder to cancel the job"
    )
    stored = await other.store.get(waiting)
    assert stored is not None
    assert stored.state is JobState.CANCELLED
    assert stored.failure is Failure.SERVER_LEFT
    kept = holder.tracker.get(elsewhere)
    assert kept is not None
    assert kept.failure is None
    assert all(holder.tracker.get(job_id) is not None for job_id in busy)


async def _queued_and_waiting(world: World, holder: Process) -> tuple[list[int], list[int]]:
    """RunComfy's workers busy with another server's jobs; a member of server 100 with two
    jobs queued at RunComfy behind them and three waiting in the bot's line."""
    for n in range(2):
        await submit(holder, f"busy {n}", user=10 + n, guild=300)
    await eventually(lambda: world.emulator.submit_count == 2, what="the busy jobs to be sent")
    queued = [await submit(holder, f"queued {n}", user=5) for n in range(2)]
    await eventually(
        lambda: all(
            (job := holder.tracker.get(job_id)) is not None and job.state is JobState.QUEUED
            for job_id in queued
        ),
        what="two jobs queued at RunComfy",
    )
    waiting = [await submit(holder, f"waiting {n}", user=5) for n in range(3)]
    return queued, waiting


async def _stopped_free(process: Process, job_ids: list[int]) -> None:
    for job_id in job_ids:
        await eventually(
            lambda job_id=job_id: process.tracker.get(job_id) is None,
            what=f"job {job_id} to be stopped",
        )
        stored = await process.store.get(job_id)
        assert stored is not None
        assert (stored.state, stored.failure) == (JobState.CANCELLED, Failure.SERVER_LEFT)


async def test_jobs_the_holder_releases_while_stopping_them_are_never_sent(world: World) -> None:
    holder = await world.make("holder")
    other = await world.make("other")
    queued, waiting = await _queued_and_waiting(world, holder)
    await other.tracker.abandon(guild_id=100, failure=Failure.SERVER_LEFT)
    await _stopped_free(holder, queued + waiting)
    await asyncio.sleep(0.5)
    assert world.emulator.submit_count == 4, "only the submits already sent"
    assert world.submits_per_prompt()["waiting 0"] == 0


async def test_a_holder_the_message_missed_learns_it_from_the_discord_side(
    world: World,
) -> None:
    """The peer's message is lost (the holder's LISTEN connection was down): the holder's
    own Discord side says the server is gone at the next submit, and every job there stops."""
    gone = GoneHere()
    holder = await world.make("holder", destinations=gone)
    other = await world.make("other")
    queued, waiting = await _queued_and_waiting(world, holder)

    async def lost(request: dict[str, Any]) -> None:
        return None

    other.peers.tell = lost  # type: ignore[method-assign]
    await other.tracker.abandon(guild_id=100, failure=Failure.SERVER_LEFT)
    assert all(holder.tracker.get(job_id) is not None for job_id in queued + waiting)
    gone.servers.add(100)
    report = await other.tracker.cancel(queued[0], by=5)
    assert report.outcome is CancelOutcomeKind.CANCELLED
    await _stopped_free(holder, queued[1:] + waiting)
    await asyncio.sleep(0.5)
    assert world.emulator.submit_count == 4, "only the submits already sent"


async def test_a_member_s_limit_holds_across_processes(world: World) -> None:
    first = await world.make("first")
    second = await world.make("second")
    allowed = 2 + 5  # two at RunComfy and five waiting (`make_settings`)
    for n in range(allowed):
        process = first if n % 2 else second
        await submit(process, f"mine {n}", user=9)
    for process in (first, second):
        with pytest.raises(TooManyJobs):
            await process.tracker.create(
                KlingRequest(prompt="one too many", duration=5),
                JobOrigin(requester_id=9, channel_id=500, guild_id=100),
            )
    await submit(first, "someone else", user=10)
