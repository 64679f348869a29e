"""Polling on the bot's real clock: the bot as its own process, jobs submitted together.

The polling benchmark (`bench.polling`) drives the tracker alone on a fast scaled clock.
This regime runs what an operator runs: `python -m bot`'s code in its own process
(`testkit.bot_process`), on the real clock (speed 1), against the in-repo fake Discord
and RunComfy emulator, with no run history. `jobs` members each send one
`/video generate` at the same moment, each in a channel of their own (so Discord's
per-channel pacing never holds a video back); RunComfy queues each for 0–`queue_wait`
s and runs it for `shortest`–`longest` s. One bot process per poll setting, side by
side, each with its own fakes. Measured from the emulator's records: status/result
requests per job and detection lag (RunComfy's finish → the first request that could
see it), for finished and failed jobs apart.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.throughput import ADAPTIVE as ADAPTIVE_SETTING
from bench.throughput import FIXED_5S, PollSetting, _first_at_or_after, _poll_times
from bench.world import BenchWorld, open_world
from testkit.load import JobPlan, index_of
from testkit.process import BotProcess
from testkit.runcomfy import JobOutcome
from testkit.runcomfy.contract import FAILED
from testkit.stats import Summary


@dataclass(frozen=True, slots=True)
class ProcessConfig:
    jobs: int = 20
    shortest: float = 10.0
    longest: float = 30.0
    queue_wait: float = 5.0
    failure_share: float = 0.15
    seed: int = 7
    within: float = 120.0
    """Real seconds to wait for every job to be seen finished."""
    settings: tuple[PollSetting, ...] = (ADAPTIVE_SETTING, FIXED_5S)


@dataclass(frozen=True, slots=True)
class ProcessResult:
    setting: str
    jobs: int
    requests_per_job: float
    lag: Summary
    """RunComfy's finish → the first status/result request at or after it (s)."""
    failure_lag: Summary
    unseen: int
    """Jobs RunComfy finished that no request saw before the run ended."""


def _plans(config: ProcessConfig) -> list[tuple[JobPlan, bool]]:
    rng = random.Random(f"{config.seed}:process")
    plans = []
    for index in range(config.jobs):
        run = rng.uniform(config.shortest, config.longest)
        fails = rng.random() < config.failure_share
        if fails:
            run = rng.uniform(1.0, run)
        wait = rng.uniform(0.0, config.queue_wait)
        plan = JobPlan(index, index, index, 5, wait, run, "a paper boat in a rain gutter")
        plans.append((plan, fails))
    return plans


async def _one(setting: PollSetting, config: ProcessConfig, workdir: Path) -> ProcessResult:
    plans = _plans(config)

    def plan_of(payload: Mapping[str, Any]) -> tuple[JobPlan, bool]:
        index = index_of(str(payload.get("prompt", "")))
        assert index is not None
        return plans[index]

    world = await open_world(
        speed=1.0,
        channels=config.jobs,
        members=config.jobs,
        generation_time=lambda payload: plan_of(payload)[0].generation_seconds,
        queue_delay=lambda payload: plan_of(payload)[0].queue_wait,
        outcome=lambda p: JobOutcome.fail() if plan_of(p)[1] else JobOutcome.complete(),
    )
    try:
        limits = {
            "MAX_ACTIVE_JOBS_PER_USER": "5",
            "MAX_ACTIVE_JOBS_PER_SERVER": str(config.jobs),
            "MAX_ACTIVE_JOBS_TOTAL": str(config.jobs),
        }
        env = world.settings(workdir / "bot.sqlite3", **limits, **setting.env)
        bot = await BotProcess.start(
            world.fake, env, workdir=workdir, speed=1.0, guild_ready_timeout=0.2
        )
        try:
            await bot.wait_on_ready()
            await asyncio.gather(*(world.generate(plan) for plan, _ in plans))
            await _await_seen(world, config.jobs, config.within)
        finally:
            await bot.stop()
        return _measure(setting, world, config.jobs)
    finally:
        await world.close()


async def _await_seen(world: BenchWorld, jobs: int, within: float) -> None:
    """Until RunComfy finished every job and a request came after each finish."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        finished = [job for job in world.emulator.jobs.values() if job.finished_at is not None]
        polls = _poll_times(world)
        if len(finished) >= jobs and all(
            _first_at_or_after(polls[job.request_id], job.finished_at or 0.0) is not None
            for job in finished
        ):
            await asyncio.sleep(0.5)
            return
        await asyncio.sleep(0.2)


def _measure(setting: PollSetting, world: BenchWorld, jobs: int) -> ProcessResult:
    polls = _poll_times(world)
    lags: dict[bool, list[float]] = {False: [], True: []}
    unseen = 0
    for job in world.emulator.jobs.values():
        if job.finished_at is None:
            unseen += 1
            continue
        seen = _first_at_or_after(polls[job.request_id], job.finished_at)
        if seen is None:
            unseen += 1
            continue
        lags[job.status == FAILED].append(seen - job.finished_at)
    return ProcessResult(
        setting=setting.label,
        jobs=jobs,
        requests_per_job=sum(len(times) for times in polls.values()) / max(jobs, 1),
        lag=Summary.of(lags[False]),
        failure_lag=Summary.of(lags[True]),
        unseen=unseen,
    )


async def run_process_regime(config: ProcessConfig, workdir: Path) -> list[ProcessResult]:
    """Every setting's bot process side by side, on the real clock."""
    for setting in config.settings:
        (workdir / setting.key).mkdir(parents=True, exist_ok=True)
    return list(
        await asyncio.gather(
            *(_one(setting, config, workdir / setting.key) for setting in config.settings)
        )
    )
