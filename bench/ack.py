"""Acknowledgement: a burst of slash commands, and how fast the bot answers each.

Discord gives a bot 3 seconds to acknowledge an interaction; the bot defers at once and
does the rest afterwards. Measured: real time from the fake dispatching
INTERACTION_CREATE to receiving the bot's callback (`acked_after`), with the product's
default limits, after one warm-up command.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from bench.world import BenchWorld, open_world
from testkit.discord import FakeInteraction
from testkit.load import JobPlan, LoadModel
from testkit.process import BotProcess
from testkit.stats import Summary


@dataclass(frozen=True, slots=True)
class AckConfig:
    commands: int
    members: int
    channels: int
    burst_seconds: float
    """Real seconds over which the commands arrive."""
    speed: float
    seed: int


@dataclass(frozen=True, slots=True)
class AckResult:
    commands: int
    burst_seconds: float
    acknowledged: int
    deferred: int
    seconds: Summary
    """Dispatch → callback, real seconds."""
    errors_logged: int


async def run_ack(config: AckConfig, workdir: Path) -> AckResult:
    model = LoadModel(config.seed)
    plans = model.plans(config.commands + 1, members=config.members, channels=config.channels)
    world = await open_world(
        speed=config.speed,
        channels=config.channels,
        members=config.members,
        generation_time=model.generation_time,
        queue_delay=model.queue_delay,
    )
    try:
        env = world.settings(workdir / "bot.sqlite3")
        bot = await BotProcess.start(
            world.fake, env, workdir=workdir, speed=config.speed, guild_ready_timeout=0.2
        )
        try:
            await bot.wait_on_ready()
            warm_up = await world.generate(plans[-1])
            await warm_up.wait_ack(timeout=10.0)
            interactions = await _burst(world, plans[:-1], config.burst_seconds)
            await _acknowledged(interactions, within=10.0)
        finally:
            await bot.stop()
        times = [it.acked_after for it in interactions if it.acked_after is not None]
        return AckResult(
            commands=len(interactions),
            burst_seconds=config.burst_seconds,
            acknowledged=len(times),
            deferred=sum(1 for it in interactions if it.deferred),
            seconds=Summary.of(times),
            errors_logged=len(bot.logged_problems()),
        )
    finally:
        await world.close()


async def _burst(world: BenchWorld, plans: list[JobPlan], seconds: float) -> list[FakeInteraction]:
    """The commands, evenly spread over `seconds` of real time."""
    interactions: list[FakeInteraction] = []
    step = seconds / max(len(plans), 1)
    start = time.monotonic()
    for number, plan in enumerate(plans):
        delay = start + number * step - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        interactions.append(await world.generate(plan))
    return interactions


async def _acknowledged(interactions: list[FakeInteraction], within: float) -> None:
    """Until every command is acknowledged (or `within` real seconds pass)."""
    await asyncio.gather(
        *(interaction.wait_ack(timeout=within) for interaction in interactions),
        return_exceptions=True,
    )
