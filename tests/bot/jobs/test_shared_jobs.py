"""Two trackers sharing one PostgreSQL database, as two bot processes would: a dead one's jobs
are taken over and delivered once, a Cancel pressed in the other process is carried out by
the holder, and leaving a server stops the jobs every process holds."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from bot.clock import ScaledClock
from bot.jobs.departures import Destinations
from bot.jobs.line import TooManyJobs
from bot.jobs.model import Failure, JobOrigin, JobState
from bot.jobs.polling import FixedPolling
from bot.jobs.tracker import CancelOutcomeKind, JobTracker
from bot.runcomfy.client import RunComfyClient
from bot.runcomfy.gate import RequestGate
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest
from bot.secret import Secret
from bot.store.pg_jobs import PgJobStore
from bot.store.pg_leases import PgLeases
from bot.store.pg_peers import PgPeers
from bot.store.postgres import PgDatabase
from testkit.runcomfy import RunComfyEmulator
from testkit.waiting import eventually
from tests.bot.jobs.rig import SPEED, FakeNotifier, make_settings
from tests.bot.jobs.test_departures import GoneHere
from tests.bot.store.backends import StoreBackend

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

LEASE = 0.6
"""Real seconds."""


@dataclass
class Process:
    name: str
    db: PgDatabase
    store: PgJobStore
    tracker: JobTracker
    leases: PgLeases
    peers: PgPeers


@dataclass
class World:
    emulator: RunComfyEmulator
    notifier: FakeNotifier
    """One for both processes: it posts like Discord, once per job (the job's nonce)."""
    make: Callable[..., Awaitable[Process]]
    processes: list[Process] = field(default_factory=list)

    def submits_per_prompt(self) -> Counter[str]:
        return Counter(job.payload["prompt"] for job in self.emulator.jobs.values())


def _generation_time(payload: Mapping[str, Any]) -> float:
    """Clock seconds: "busy" jobs hold RunComfy's two workers for a long while."""
    return 3000.0 if str(payload["prompt"]).startswith("busy") else 300.0


@pytest.fixture
async def world(backend: StoreBackend) -> AsyncIterator[World]:
    postgres = backend.settings().postgres
    assert postgres is not None
    clock = ScaledClock(SPEED)
    emulator = RunComfyEmulator(clock=clock, workers=2, generation_time=_generation_time)
    await emulator.start()
    session = aiohttp.ClientSession()
    gate = RequestGate(clock, rate_per_second=50.0, max_concurrency=10)
    notifier = FakeNotifier()

    async def make(name: str, *, destinations: Destinations | None = None) -> Process:
        db = await PgDatabase.open(postgres.dsn.reveal())
        store = PgJobStore(db, owner=name, lease_seconds=LEASE)
        leases = PgLeases(store)
        peers = PgPeers(db, name=name)
        client = RunComfyClient(
            session,
            base_url=emulator.base_url,
            token=Secret(emulator.token),
            clock=clock,
            gate=gate,
        )
        tracker = JobTracker(
            store,
            client,
            clock=clock,
            pricing=Pricing(),
            poll_policy=FixedPolling(5.0),
            settings=make_settings(deadline_seconds=6 * 3600),
            notifier=notifier,
            leases=leases,
            peers=peers,
            destinations=destinations,
        )
        await tracker.start()
        process = Process(name, db, store, tracker, leases, peers)
        shared.processes.append(process)
        return process

    shared = World(emulator, notifier, make)
    yield shared
    for process in shared.processes:
        await process.tracker.close()
        await process.db.close()
    await session.close()
    await emulator.close()


async def _submit(process: Process, prompt: str, *, user: int = 1, guild: int = 100) -> int:
    job = await process.tracker.create(
        KlingRequest(prompt=prompt, duration=5),
        JobOrigin(requester_id=user, channel_id=500, guild_id=guild),
    )
    await process.tracker.enqueue(job.id, status_message_id=7000 + job.id)
    return job.id


async def _fill_runcomfy(world: World, process: Process) -> list[int]:
    """Two long jobs that hold both of RunComfy's workers, so the next one waits in its queue."""
    busy = [await _submit(process, f"busy {n}", user=n) for n in range(2)]
    await eventually(
        lambda: world.emulator.submit_count == 2, what="both busy jobs to reach RunComfy"
    )
    return busy


async def _die(process: Process) -> None:
    """Stop as a killed process would: nothing handed over, the leases left to run out."""

    async def keep_leases() -> None:
        return None

    process.leases.let_go = keep_leases  # type: ignore[method-assign]
    await process.tracker.close()


async def test_a_dead_process_jobs_are_taken_over_and_delivered_once(world: World) -> None:
    first = await world.make("first")
    second = await world.make("second")
    ids = [await _submit(first, f"prompt {n}", user=n) for n in range(6)]
    await eventually(
        lambda: (
            sum(1 for job_id in ids if first.tracker.get(job_id) is not None) == 6
            and world.emulator.submit_count >= 2
        ),
        what="the first process to submit",
    )
    await _die(first)
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
    busy = await _fill_runcomfy(world, holder)
    waiting_at_runcomfy = await _submit(holder, "queued behind them", user=3)
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
    job_id = await _submit(holder, "held by a process that is gone")
    await _die(holder)
    report = await other.tracker.cancel(job_id, by=1)
    assert report.outcome in (CancelOutcomeKind.UNREACHABLE, CancelOutcomeKind.CANCELLED)


async def test_leaving_a_server_stops_the_jobs_every_process_holds(world: World) -> None:
    holder = await world.make("holder")
    other = await world.make("other")
    busy = await _fill_runcomfy(world, holder)
    waiting = await _submit(holder, "still waiting", user=5)
    elsewhere = await _submit(holder, "another server", user=6, guild=200)
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
        await _submit(holder, f"busy {n}", user=10 + n, guild=300)
    await eventually(lambda: world.emulator.submit_count == 2, what="the busy jobs to be sent")
    queued = [await _submit(holder, f"queued {n}", user=5) for n in range(2)]
    await eventually(
        lambda: all(
            (job := holder.tracker.get(job_id)) is not None and job.state is JobState.QUEUED
            for job_id in queued
        ),
        what="two jobs queued at RunComfy",
    )
    waiting = [await _submit(holder, f"waiting {n}", user=5) for n in range(3)]
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
        await _submit(process, f"mine {n}", user=9)
    for process in (first, second):
        with pytest.raises(TooManyJobs):
            await process.tracker.create(
                KlingRequest(prompt="one too many", duration=5),
                JobOrigin(requester_id=9, channel_id=500, guild_id=100),
            )
    await _submit(first, "someone else", user=10)
