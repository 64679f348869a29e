"""Big files: how much the bot's memory grows while it delivers one large video.

The bot streams the download to a temporary file and discord.py uploads from that file,
so a 100 MB video should cost buffers, not its size. After a warm-up delivery of a tiny
video (so first-use costs are paid), the bot's peak RSS is reset (/proc clear_refs) and
the large job runs; growth = peak RSS during the delivery − RSS before it. RSS is also
sampled every 10 ms, in case the kernel refuses the reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.world import MIB, BenchWorld, open_world
from testkit.evidence import job_number
from testkit.process import BotProcess
from testkit.runcomfy import JobOutcome

BIG = "big-file: "


@dataclass(frozen=True, slots=True)
class BigFileConfig:
    size: int
    speed: float


@dataclass(frozen=True, slots=True)
class BigFileResult:
    size: int
    attached_size: int | None
    baseline_rss_bytes: int
    peak_rss_bytes: int
    real_seconds: float
    """Real seconds from the video being ready at the emulator to the message."""
    errors_logged: int

    @property
    def growth_bytes(self) -> int:
        return self.peak_rss_bytes - self.baseline_rss_bytes


async def run_bigfile(config: BigFileConfig, workdir: Path) -> BigFileResult:
    def outcome(payload: Mapping[str, Any]) -> JobOutcome:
        big = str(payload.get("prompt", "")).startswith(BIG)
        return JobOutcome.complete(video_size=config.size if big else None)

    world = await open_world(
        speed=config.speed,
        upload_limit=config.size + 64 * MIB,
        generation_time=lambda payload: 10.0,
        outcome=outcome,
    )
    try:
        env = world.settings(workdir / "bot.sqlite3", MAX_DOWNLOAD_MB=str(config.size // MIB + 64))
        bot = await BotProcess.start(
            world.fake, env, workdir=workdir, speed=config.speed, guild_ready_timeout=0.2
        )
        try:
            await bot.wait_on_ready()
            await _deliver(world, "warm-up: a tiny video")
            await asyncio.sleep(4 * 1.25 / config.speed)
            baseline = bot.memory().rss_bytes
            bot.reset_peak()
            sampled = [baseline]
            sampler = asyncio.create_task(_sample(bot, sampled))
            try:
                number, seconds = await _deliver(world, BIG + "a long aerial shot")
            finally:
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
            peak = max(bot.memory().peak_bytes, *sampled)
        finally:
            await bot.stop()
        return BigFileResult(
            size=config.size,
            attached_size=_attached_size(world, number),
            baseline_rss_bytes=baseline,
            peak_rss_bytes=peak,
            real_seconds=seconds,
            errors_logged=len(bot.logged_problems()),
        )
    finally:
        await world.close()


async def _deliver(world: BenchWorld, prompt: str, within: float = 120.0) -> tuple[int, float]:
    """Run one job to its video message; its job id and the real seconds from the video
    being ready at the emulator to the message."""
    interaction = await world.fake.invoke_slash(
        world.channels[0],
        world.members[0],
        "video",
        subcommand="generate",
        options={"prompt": prompt},
    )
    await interaction.wait_original(lambda m: job_number(interaction) is not None, timeout=within)
    number = job_number(interaction)
    assert number is not None, interaction.original
    deadline = time.monotonic() + within
    while number not in world.deliveries:
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {number}'s video did not arrive in {within:.0f} s")
        await asyncio.sleep(0.01)
    [job] = [j for j in world.emulator.jobs.values() if j.payload.get("prompt") == prompt]
    assert job.finished_at is not None
    return number, (world.deliveries[number] - job.finished_at) / world.speed


async def _sample(bot: BotProcess, samples: list[int]) -> None:
    while True:
        samples.append(bot.memory().rss_bytes)
        await asyncio.sleep(0.01)


def _attached_size(world: BenchWorld, number: int) -> int | None:
    for message in world.bot_messages():
        if f"**#{number}**" in message.text and message.attachments:
            return message.attachments[0].size
    return None
