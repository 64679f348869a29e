"""Start-up: process start to ready, with a long history of finished jobs in the store.

The store is filled through the project's own `JobStore` and `Job` model, so the schema
and rows are real. "Ready" is the bot's first gateway READY (`on_connect`): by then
setup has opened the store, reloaded unfinished jobs, learned from recent runs and
synced the commands. discord.py's `on_ready` comes `guild_ready_timeout` later (2 s by
default: it waits for more servers to stream in) and is reported alongside.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.world import MIB, open_world
from bot.jobs.model import Job, JobOrigin, JobState, NoticeState
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest
from bot.store.sqlite_jobs import JobStore
from testkit.load import LoadModel
from testkit.process import BotProcess
from testkit.stats import Summary

LIFECYCLE = (
    JobState.NEW,
    JobState.WAITING,
    JobState.SUBMITTING,
    JobState.QUEUED,
    JobState.RUNNING,
    JobState.COMPLETED,
    JobState.DELIVERED,
)


@dataclass(frozen=True, slots=True)
class StartupConfig:
    stored_jobs: int
    runs: int
    speed: float
    seed: int
    guild_ready_timeout: float | None = None
    """None: the product's default."""


@dataclass(frozen=True, slots=True)
class StartupResult:
    stored_jobs: int
    ready: Summary
    """Real seconds from process start to logged in, synced and reloaded."""
    on_ready: Summary
    reloaded_open_jobs: int
    prefill_seconds: float
    errors_logged: int


def finished_job(index: int, model: LoadModel, *, guild_id: int, channel_id: int) -> Job:
    """A delivered job from the past, with the timings of the load model."""
    plan = model.plan(index, members=200)
    request = KlingRequest(prompt=plan.prompt, duration=plan.duration)
    created = 1_700_000_000.0 + index * 30.0
    steps = (0.0, 1.0, 2.0, 2.3, 2.3 + plan.queue_wait, plan.generation_seconds, 3.0)
    times, at = {}, created
    for state, step in zip(LIFECYCLE, steps, strict=True):
        at += step
        times[state] = at
    pricing = Pricing()
    return Job(
        id=0,
        state=JobState.DELIVERED,
        request=request,
        origin=JobOrigin(
            requester_id=10_000 + plan.member,
            channel_id=channel_id,
            guild_id=guild_id,
            upload_limit=10 * MIB,
        ),
        created_at=created,
        updated_at=at,
        estimated_cost=pricing.estimate(request),
        state_times=times,
        request_id=str(uuid.UUID(int=index + 1)),
        output_url=f"https://example.invalid/files/{index}.mp4",
        cost=pricing.estimate(request),
        status_message_id=1_000_000 + 2 * index,
        notice=NoticeState.SENT,
        notice_attempts=1,
        notice_message_id=1_000_001 + 2 * index,
        deadline_at=times[JobState.SUBMITTING] + 1800.0,
        submit_attempts=1,
    )


async def prefill(
    path: Path, count: int, model: LoadModel, *, guild_id: int, channel_id: int
) -> None:
    store = await JobStore.open(path)
    try:
        for index in range(count):
            await store.insert(finished_job(index, model, guild_id=guild_id, channel_id=channel_id))
    finally:
        await store.close()


async def run_startup(config: StartupConfig, workdir: Path) -> StartupResult:
    model = LoadModel(config.seed)
    world = await open_world(speed=config.speed)
    try:
        database = workdir / "bot.sqlite3"
        began = time.monotonic()
        await prefill(
            database,
            config.stored_jobs,
            model,
            guild_id=world.guild.id,
            channel_id=world.channels[0].id,
        )
        prefill_seconds = time.monotonic() - began
        env = world.settings(database)
        ready: list[float] = []
        on_ready: list[float] = []
        open_jobs = 0
        for _ in range(config.runs):
            bot = await BotProcess.start(
                world.fake,
                env,
                workdir=workdir,
                speed=config.speed,
                guild_ready_timeout=config.guild_ready_timeout,
            )
            try:
                ready.append(bot.startup_seconds)
                on_ready.append(await bot.wait_on_ready())
                open_jobs = max(open_jobs, int(bot.ready_facts.get("open_jobs", -1)))
            finally:
                await bot.stop()
        return StartupResult(
            stored_jobs=config.stored_jobs,
            ready=Summary.of(ready),
            on_ready=Summary.of(on_ready),
            reloaded_open_jobs=open_jobs,
            prefill_seconds=prefill_seconds,
            errors_logged=len(bot.logged_problems()),
        )
    finally:
        await world.close()
