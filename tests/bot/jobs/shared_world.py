"""Several trackers sharing one PostgreSQL database, as several bot processes would: each
with its own pool, name, leases and peers, one RunComfy emulator and one notifier (which
posts like Discord, once per job). A "process" may run on a clock of its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from bot.clock import Clock, ScaledClock
from bot.jobs.departures import Destinations
from bot.jobs.model import JobOrigin
from bot.jobs.polling import FixedPolling
from bot.jobs.tracker import JobTracker
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

LEASE = 0.6
"""Real seconds."""
CONNECT_TIMEOUT, READ_TIMEOUT = 1.0, 5.0
"""Real seconds: the emulator answers at once, so a submit is over well within these,
and a job taken over while being sent need not wait the production client's 70 s."""


@dataclass
class Process:
    name: str
    db: PgDatabase
    store: PgJobStore
    tracker: JobTracker
    leases: PgLeases
    peers: PgPeers


class MakeProcess(Protocol):
    def __call__(
        self,
        name: str,
        *,
        clock: Clock | None = None,
        deadline: float = ...,
        client: Callable[[RunComfyClient], Any] | None = None,
        destinations: Destinations | None = None,
        **settings: Any,
    ) -> Awaitable[Process]: ...


@dataclass
class World:
    clock: ScaledClock
    emulator: RunComfyEmulator
    notifier: FakeNotifier
    """One for every process: it posts like Discord, once per job (the job's nonce)."""
    make: MakeProcess
    processes: list[Process] = field(default_factory=list)

    def submits_per_prompt(self) -> Counter[str]:
        return Counter(job.payload["prompt"] for job in self.emulator.jobs.values())


def _generation_time(payload: Mapping[str, Any]) -> float:
    """Clock seconds: "busy" jobs hold RunComfy's two workers for a long while, "endless"
    ones for longer than any test."""
    prompt = str(payload["prompt"])
    if prompt.startswith("endless"):
        return 1e9
    return 3000.0 if prompt.startswith("busy") else 300.0


@asynccontextmanager
async def open_world(dsn: str) -> AsyncIterator[World]:
    clock = ScaledClock(SPEED)
    emulator = RunComfyEmulator(clock=clock, workers=2, generation_time=_generation_time)
    await emulator.start()
    session = aiohttp.ClientSession()
    gate = RequestGate(clock, rate_per_second=50.0, max_concurrency=10)
    notifier = FakeNotifier()

    async def make(
        name: str,
        *,
        clock: Clock | None = None,
        deadline: float = 6 * 3600,
        client: Callable[[RunComfyClient], Any] | None = None,
        destinations: Destinations | None = None,
        **settings: Any,
    ) -> Process:
        """A process named `name`; `clock` is its own (default: the world's), `client`
        wraps its RunComfy client, `destinations` is its Discord side's word on where jobs
        may still go, `settings` are the tracker's."""
        own_clock = clock or shared.clock
        db = await PgDatabase.open(dsn)
        store = PgJobStore(db, owner=name, lease_seconds=LEASE)
        leases = PgLeases(store)
        peers = PgPeers(db, name=name)
        runcomfy = RunComfyClient(
            session,
            base_url=emulator.base_url,
            token=Secret(emulator.token),
            clock=own_clock,
            gate=gate,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
        )
        tracker = JobTracker(
            store,
            runcomfy if client is None else client(runcomfy),
            clock=own_clock,
            pricing=Pricing(),
            poll_policy=FixedPolling(5.0),
            settings=make_settings(
                deadline_seconds=deadline,
                **{
                    "submit_timeout": CONNECT_TIMEOUT + READ_TIMEOUT,
                    "submit_record_grace": 1.0,
                    **settings,
                },
            ),
            notifier=notifier,
            leases=leases,
            peers=peers,
            destinations=destinations,
        )
        await tracker.start()
        process = Process(name, db, store, tracker, leases, peers)
        shared.processes.append(process)
        return process

    shared = World(clock, emulator, notifier, make)
    try:
        yield shared
    finally:
        for process in shared.processes:
            await process.tracker.close()
            await process.db.close()
        await session.close()
        await emulator.close()


async def submit(process: Process, prompt: str, *, user: int = 1, guild: int = 100) -> int:
    job = await process.tracker.create(
        KlingRequest(prompt=prompt, duration=5),
        JobOrigin(requester_id=user, channel_id=500, guild_id=guild),
    )
    await process.tracker.enqueue(job.id, status_message_id=7000 + job.id)
    return job.id


async def fill_runcomfy(world: World, process: Process) -> list[int]:
    """Two long jobs that hold both of RunComfy's workers, so the next one waits in its queue."""
    busy = [await submit(process, f"busy {n}", user=n) for n in range(2)]
    await eventually(
        lambda: world.emulator.submit_count == 2, what="both busy jobs to reach RunComfy"
    )
    return busy


async def die(process: Process) -> None:
    """Stop as a killed process would: nothing handed over, the leases left to run out."""

    async def keep_leases() -> None:
        return None

    process.leases.let_go = keep_leases  # type: ignore[method-assign]
    await process.tracker.close()
