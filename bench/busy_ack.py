"""Acknowledgement while busy: a burst of commands on an idle bot, then the same burst
once it tracks a thousand jobs, most of them waiting in its line.

Discord gives a bot 3 seconds to acknowledge an interaction, and a member feels every
tenth of one. An idle bot answers in a few milliseconds; what a busy one adds is what
the bot does per job on its event loop between two commands (releasing the line,
redrawing cards, estimating), so the difference between the two bursts is the cost of
being busy. Both bursts run in one bot process, one after the other: `commands`
commands in `burst_seconds` (real) on the idle bot; then `tracked` more commands,
spread over `fill_seconds`, with `active_limit` jobs at RunComfy at once (the server's
and the total limit; each member may have all their jobs waiting), so most of them wait
in the bot's line while the rest run and finish (their slots go to the next in line);
then the burst again.
Measured: real time from the fake dispatching INTERACTION_CREATE to receiving the
bot's callback.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from bench.ack import _acknowledged, _burst
from bench.world import BenchWorld, open_world
from testkit.discord import FakeInteraction
from testkit.evidence import job_number
from testkit.load import LoadModel
from testkit.process import BotProcess
from testkit.stats import Summary


@dataclass(frozen=True, slots=True)
class BusyAckConfig:
    commands: int
    """Commands in each burst."""
    tracked: int
    """Commands sent between the bursts, so the bot tracks this many more jobs."""
    members: int
    channels: int
    burst_seconds: float
    fill_seconds: float
    """Real seconds over which the tracked jobs' commands arrive."""
    active_limit: int
    """Jobs at RunComfy at once (the server's and the total limit): the rest wait."""
    speed: float
    seed: int


@dataclass(frozen=True, slots=True)
class BusyAckResult:
    commands: int
    burst_seconds: float
    tracked: int
    """Jobs the bot held (waiting, at RunComfy or being posted) when the second burst began."""
    waiting: int
    """Of those, jobs waiting in the bot's line then."""
    idle: Summary
    """Dispatch → callback in the first burst, real seconds."""
    busy: Summary
    """The same in the second."""
    acknowledged: int
    """Of both bursts' commands."""
    errors_logged: int


async def run_busy_ack(config: BusyAckConfig, workdir: Path) -> BusyAckResult:
    model = LoadModel(config.seed)
    total = 1 + 2 * config.commands + config.tracked
    plans = model.plans(total, members=config.members, channels=config.channels)
    warm_up, idle_plans = plans[0], plans[1 : 1 + config.commands]
    fill = plans[1 + config.commands : 1 + config.commands + config.tracked]
    busy_plans = plans[1 + config.commands + config.tracked :]
    world = await open_world(
        speed=config.speed,
        channels=config.channels,
        members=config.members,
        generation_time=model.generation_time,
        queue_delay=model.queue_delay,
    )
    try:
        limit = str(config.active_limit)
        per_member = min(-(-total // config.members), 100)
        env = world.settings(
            workdir / "bot.sqlite3",
            MAX_ACTIVE_JOBS_PER_SERVER=limit,
            MAX_ACTIVE_JOBS_TOTAL=limit,
            MAX_WAITING_JOBS_PER_USER=str(per_member),
            RUNCOMFY_MAX_REQUESTS_PER_SECOND="1000",
            RUNCOMFY_MAX_CONCURRENT_REQUESTS="50",
        )
        bot = await BotProcess.start(
            world.fake, env, workdir=workdir, speed=config.speed, guild_ready_timeout=0.2
        )
        try:
            await bot.wait_on_ready()
            first = await world.generate(warm_up)
            await first.wait_ack(timeout=10.0)
            idle = await _burst(world, idle_plans, config.burst_seconds)
            await _acknowledged(idle, within=10.0)
            filled = await _burst(world, fill, config.fill_seconds)
            await _acknowledged(filled, within=30.0)
            await _numbered(filled, within=60.0)
            tracked, waiting = _held(world, [first, *idle, *filled])
            busy = await _burst(world, busy_plans, config.burst_seconds)
            await _acknowledged(busy, within=10.0)
        finally:
            await bot.stop()
        return BusyAckResult(
            commands=config.commands,
            burst_seconds=config.burst_seconds,
            tracked=tracked,
            waiting=waiting,
            idle=_ack_times(idle),
            busy=_ack_times(busy),
            acknowledged=sum(1 for it in (*idle, *busy) if it.acked_after is not None),
            errors_logged=len(bot.logged_problems()),
        )
    finally:
        await world.close()


def _ack_times(interactions: list[FakeInteraction]) -> Summary:
    return Summary.of(it.acked_after for it in interactions if it.acked_after is not None)


async def _numbered(interactions: list[FakeInteraction], within: float) -> None:
    """Until every command's public reply names its job (the job is in the bot's book)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(job_number(it) is not None for it in interactions):
            return
        await asyncio.sleep(0.1)


def _held(world: BenchWorld, interactions: list[FakeInteraction]) -> tuple[int, int]:
    """Jobs the bot took and has not posted yet, and of those the ones not yet sent to
    RunComfy: read from the fakes, so the bot is not asked while it is measured."""
    taken = {number for it in interactions if (number := job_number(it)) is not None}
    held = taken - set(world.deliveries)
    return len(held), len(taken) - len(world.emulator.jobs)
