"""A job tracker wired to the RunComfy emulator on a fast clock, plus test doubles for
the Discord side (an observer and a notifier that behaves like Discord's nonce)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.clock import ScaledClock
from bot.jobs.departures import Destinations
from bot.jobs.line import ServerLimits
from bot.jobs.model import Job, JobOrigin, JobState
from bot.jobs.polling import FixedPolling, PollPolicy
from bot.jobs.ports import NoticeError
from bot.jobs.tracker import JobTracker, TrackerSettings
from bot.runcomfy.client import RunComfyClient
from bot.runcomfy.gate import RequestGate
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest
from bot.runcomfy.retry import RetryPolicy
from bot.secret import Secret
from bot.store.sqlite_jobs import JobStore
from testkit.runcomfy import RunComfyEmulator
from testkit.waiting import eventually

SPEED = 200.0
"""Clock seconds per real second: a 70-second job takes 0.35 real seconds."""


class RecordingObserver:
    def __init__(self) -> None:
        self.seen: list[Job] = []

    def job_changed(self, job: Job) -> None:
        self.seen.append(job)

    def states(self, job_id: int) -> list[JobState]:
        """The distinct states the job was announced in, in order."""
        states: list[JobState] = []
        for job in self.seen:
            if job.id == job_id and (not states or states[-1] is not job.state):
                states.append(job.state)
        return states


@dataclass
class FakeNotifier:
    """Posts "messages" idempotently per job, like Discord does for a repeated nonce."""

    failures: list[NoticeError] = field(default_factory=list)
    hang_after_post: bool = False
    calls: list[Job] = field(default_factory=list)
    posted: dict[int, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(9000))

    async def send_notice(self, job: Job) -> int | None:
        self.calls.append(job)
        if self.failures:
            raise self.failures.pop(0)
        if job.id not in self.posted:
            self.posted[job.id] = next(self._ids)
        if self.hang_after_post:
            await asyncio.Event().wait()
        return self.posted[job.id]

    def calls_for(self, job_id: int) -> list[Job]:
        return [job for job in self.calls if job.id == job_id]


@dataclass
class Rig:
    clock: ScaledClock
    emulator: RunComfyEmulator
    session: aiohttp.ClientSession
    store: JobStore
    settings: TrackerSettings
    notifier: FakeNotifier
    observer: RecordingObserver
    policy_factory: Callable[[], PollPolicy]
    gate: RequestGate
    tracker: JobTracker | None = None
    trackers: list[JobTracker] = field(default_factory=list)

    def client(self) -> RunComfyClient:
        return RunComfyClient(
            self.session,
            base_url=self.emulator.base_url,
            token=Secret(self.emulator.token),
            clock=self.clock,
            read_timeout=5.0,
            retry=RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=10.0, deadline=120.0),
            gate=self.gate,
        )

    async def start(
        self, *, notifier: FakeNotifier | None = None, destinations: Destinations | None = None
    ) -> JobTracker:
        if notifier is not None:
            self.notifier = notifier
        tracker = JobTracker(
            self.store,
            self.client(),
            clock=self.clock,
            pricing=Pricing(),
            poll_policy=self.policy_factory(),
            settings=self.settings,
            notifier=self.notifier,
            destinations=destinations,
        )
        tracker.add_observer(self.observer)
        await tracker.start()
        self.tracker = tracker
        self.trackers.append(tracker)
        return tracker

    async def stop(self) -> None:
        assert self.tracker is not None
        await self.tracker.close()
        self.tracker = None

    async def restart(self, *, notifier: FakeNotifier | None = None) -> JobTracker:
        await self.stop()
        return await self.start(notifier=notifier)

    async def submit(
        self,
        prompt: str = "a red fox running through fresh snow",
        *,
        user: int = 1,
        guild: int = 100,
        duration: int = 5,
        enqueue: bool = True,
    ) -> Job:
        assert self.tracker is not None
        job = await self.tracker.create(
            KlingRequest(prompt=prompt, duration=duration),
            JobOrigin(requester_id=user, channel_id=500, guild_id=guild),
        )
        if enqueue:
            job = await self.tracker.enqueue(job.id, status_message_id=7000 + job.id)
        return job

    async def job(self, job_id: int) -> Job:
        job = await self.store.get(job_id)
        assert job is not None
        return job

    async def wait_for_state(self, job_id: int, *states: JobState, within: float = 10.0) -> Job:
        assert self.tracker is not None
        tracker = self.tracker

        def reached() -> bool:
            job = tracker.get(job_id)
            if job is not None:
                return job.state in states
            return any(seen.id == job_id and seen.state in states for seen in self.observer.seen)

        await eventually(reached, within=within, what=f"job {job_id} to reach {states}")
        return await self.job(job_id)


def make_settings(**overrides: object) -> TrackerSettings:
    base: dict[str, object] = {
        "limits": ServerLimits(per_user=2, per_server=10),
        "max_active_total": 50,
        "max_waiting_per_user": 5,
        "deadline_seconds": 30 * 60,
        "shutdown_grace": 2.0,
    }
    base.update(overrides)
    return TrackerSettings(**base)  # type: ignore[arg-type]


def fixed(interval: float = 2.0) -> Callable[[], PollPolicy]:
    return lambda: FixedPolling(interval)


async def open_rig(
    tmp_path: Path,
    *,
    settings: TrackerSettings | None = None,
    policy: Callable[[], PollPolicy] | None = None,
    workers: int = 2,
    generation_time: float = 30.0,
    rate_per_second: float = 50.0,
) -> Rig:
    clock = ScaledClock(SPEED)
    emulator = RunComfyEmulator(
        clock=clock, workers=workers, generation_time=lambda payload: generation_time
    )
    await emulator.start()
    session = aiohttp.ClientSession()
    store = await JobStore.open(tmp_path / "jobs.sqlite3")
    return Rig(
        clock=clock,
        emulator=emulator,
        session=session,
        store=store,
        settings=settings or make_settings(),
        notifier=FakeNotifier(),
        observer=RecordingObserver(),
        policy_factory=policy or fixed(),
        gate=RequestGate(clock, rate_per_second=rate_per_second, max_concurrency=10),
    )


async def close_rig(rig: Rig) -> None:
    if rig.tracker is not None:
        await rig.tracker.close()
    await rig.store.close()
    await rig.session.close()
    await rig.emulator.close()
