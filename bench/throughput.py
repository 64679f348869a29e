"""Throughput under load: many concurrent jobs, from command to video message.

Members fire their `/video generate` commands within a short window; the bot posts a
status message per job (paced per channel), sends each job to the emulator, polls it
with the chosen schedule and posts the video. Measured per run: RunComfy status/result
requests per job, delivery lag (emulated completion → video message, emulated seconds),
detection lag (completion → the first poll that could see it), command → video, Discord
edits per job, 429s, the bot process's peak RSS and CPU seconds per job. The floors a
perfect bot would have are computed from the emulator's actual finish times.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.world import BenchWorld, open_world
from bot.discord_ui.outbox import DEFAULT_BURST
from testkit.discord import FakeInteraction
from testkit.evidence import job_number
from testkit.load import Finish, JobPlan, LoadModel, index_of, paced_waits
from testkit.process import BotProcess
from testkit.runcomfy import EmulatedJob, Endpoint
from testkit.stats import Summary

POLLS = (Endpoint.STATUS, Endpoint.RESULT)


@dataclass(frozen=True, slots=True)
class PollSetting:
    """How the bot polls in one run: its POLL_MODE / POLL_INTERVAL_SECONDS settings."""

    key: str
    label: str
    env: dict[str, str]


ADAPTIVE = PollSetting("adaptive", "adaptive", {"POLL_MODE": "adaptive"})
FIXED_2S = PollSetting(
    "fixed-2s", "fixed 2 s", {"POLL_MODE": "fixed", "POLL_INTERVAL_SECONDS": "2"}
)
FIXED_5S = PollSetting(
    "fixed-5s", "fixed 5 s", {"POLL_MODE": "fixed", "POLL_INTERVAL_SECONDS": "5"}
)
SETTINGS = (ADAPTIVE, FIXED_2S, FIXED_5S)


@dataclass(frozen=True, slots=True)
class LoadConfig:
    jobs: int
    members: int
    channels: int
    speed: float
    command_window: float
    """Emulated seconds over which all commands arrive."""
    within: float
    """Real seconds to wait for every video before giving up."""
    seed: int
    together: bool = False
    """Jobs finish close together (a crowded prompt session) instead of spread out."""

    def limits(self) -> dict[str, str]:
        """Limits raised so that every job can be at RunComfy at once."""
        per_user = -(-self.jobs // self.members)
        return {
            "MAX_ACTIVE_JOBS_PER_USER": str(min(per_user, 100)),
            "MAX_WAITING_JOBS_PER_USER": str(min(per_user, 100)),
            "MAX_ACTIVE_JOBS_PER_SERVER": str(min(self.jobs, 1000)),
            "MAX_ACTIVE_JOBS_TOTAL": str(self.jobs),
            "RUNCOMFY_MAX_REQUESTS_PER_SECOND": "1000",
            "RUNCOMFY_MAX_CONCURRENT_REQUESTS": "50",
        }


@dataclass(frozen=True, slots=True)
class LoadResult:
    setting: str
    jobs: int
    channels: int
    delivered: int
    polls_per_job: float
    lag: Summary
    """Emulated completion → video message, emulated seconds."""
    detection: Summary
    """Emulated completion → the first status/result request at or after it."""
    command_to_video: Summary
    channel_floor: Summary
    """What Discord's per-channel limit alone would cost a perfect bot (`paced_waits`),
    from the emulator's actual finish times."""
    pace_floor: Summary
    """The same at the bot's own pace: 4 of Discord's 5 messages per 5 s."""
    seen_floor: Summary
    """The same perfect bot at 4 per 5 s, but learning of each finish only when the bot's
    polling could (its first status/result request at or after the finish): the rest of
    the lag is the posting side's (download, facts, the channel's lane)."""
    edits_per_job: float
    channel_writes_per_job: float
    """Messages created or edited through channel routes (the bot token's bucket) per job."""
    discord_429s: int
    bucket_emptied: int
    """Channel writes that left Discord's bucket empty (the bot keeps one in reserve)."""
    peak_rss_bytes: int
    cpu_per_job: float
    peak_requests_per_second: int
    peak_jobs_at_runcomfy: int
    real_seconds: float
    errors_logged: int


async def run_load(setting: PollSetting, config: LoadConfig, workdir: Path) -> LoadResult:
    """One full run of the load with one poll setting, in a fresh world and bot process."""
    model = LoadModel(config.seed, together=config.together)
    plans = model.plans(config.jobs, members=config.members, channels=config.channels)
    world = await open_world(
        speed=config.speed,
        channels=config.channels,
        members=config.members,
        generation_time=model.generation_time,
        queue_delay=model.queue_delay,
    )
    try:
        env = world.settings(workdir / "bot.sqlite3", **config.limits(), **setting.env)
        bot = await BotProcess.start(
            world.fake, env, workdir=workdir, speed=config.speed, guild_ready_timeout=0.2
        )
        try:
            await bot.wait_on_ready()
            cpu_before = bot.cpu_seconds()
            started = time.monotonic()
            sent_at, interactions = await _fire(world, plans, config)
            numbers = await _await_deliveries(world, interactions, config.within)
            await _await_final_edits(world, len(numbers), within=30.0)
            real_seconds = time.monotonic() - started
            cpu = bot.cpu_seconds() - cpu_before
            peak_rss = bot.memory().peak_bytes
        finally:
            await bot.stop()
        return LoadResult(
            setting=setting.label,
            jobs=config.jobs,
            channels=config.channels,
            cpu_per_job=cpu / config.jobs,
            peak_rss_bytes=peak_rss,
            real_seconds=real_seconds,
            errors_logged=len(bot.logged_problems()),
            **_measure(world, plans, numbers, sent_at),
        )
    finally:
        await world.close()


async def _fire(
    world: BenchWorld, plans: list[JobPlan], config: LoadConfig
) -> tuple[dict[int, float], dict[int, FakeInteraction]]:
    """Send every command, spread evenly over the window; by plan index, when (emulated
    clock) each was sent and its interaction."""
    sent_at: dict[int, float] = {}
    interactions: dict[int, FakeInteraction] = {}
    step = config.command_window / max(len(plans), 1) / config.speed
    start = time.monotonic()
    for plan in plans:
        delay = start + plan.index * step - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent_at[plan.index] = world.clock.now()
        interactions[plan.index] = await world.generate(plan)
    return sent_at, interactions


async def _await_deliveries(
    world: BenchWorld, interactions: dict[int, FakeInteraction], within: float
) -> dict[int, int]:
    """Wait until every accepted job's video message arrived (a refused command counts as
    settled); plan index → bot job id."""
    deadline = time.monotonic() + within
    numbers: dict[int, int] = {}
    refused: set[int] = set()
    while time.monotonic() < deadline:
        for index, interaction in interactions.items():
            if index in numbers or index in refused:
                continue
            if (number := job_number(interaction)) is not None:
                numbers[index] = number
            elif interaction.original is not None and not interaction.original.loading:
                refused.add(index)
        settled = len(numbers) + len(refused) == len(interactions)
        if settled and all(number in world.deliveries for number in numbers.values()):
            break
        await asyncio.sleep(0.1)
    return numbers


async def _await_final_edits(world: BenchWorld, jobs: int, within: float) -> None:
    """Let the coalesced status edits drain, so edits per job counts each job's last one."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        final = sum(
            1
            for message in world.bot_messages()
            if message.embeds and "Delivered" in str(message.embeds[0].get("fields", ""))
        )
        if final >= jobs:
            return
        await asyncio.sleep(0.2)


def _measure(
    world: BenchWorld, plans: list[JobPlan], numbers: dict[int, int], sent_at: dict[int, float]
) -> dict[str, Any]:
    """Everything read from the fakes' records once the run is over."""
    emulated = {
        index: job
        for job in world.emulator.jobs.values()
        if (index := index_of(str(job.payload.get("prompt", "")))) is not None
    }
    delivered = {
        index: world.deliveries[number]
        for index, number in numbers.items()
        if number in world.deliveries
    }
    finished = {
        index: job.finished_at for index, job in emulated.items() if job.finished_at is not None
    }
    polls = _poll_times(world)
    seen = {
        index: at
        for index, job in emulated.items()
        if job.finished_at is not None
        and (at := _first_at_or_after(polls[job.request_id], job.finished_at)) is not None
    }
    channel = {plan.index: plan.channel for plan in plans}
    actual = [Finish(channel[index], at) for index, at in finished.items()]
    seen_late = [Finish(channel[i], at, seen.get(i, at)) for i, at in finished.items()]
    jobs = max(len(emulated), 1)
    return {
        "delivered": len(delivered),
        "polls_per_job": sum(len(times) for times in polls.values()) / jobs,
        "lag": Summary.of(at - finished[i] for i, at in delivered.items() if i in finished),
        "detection": Summary.of(at - finished[index] for index, at in seen.items()),
        "channel_floor": Summary.of(paced_waits(actual)),
        "pace_floor": Summary.of(paced_waits(actual, per_window=DEFAULT_BURST)),
        "seen_floor": Summary.of(paced_waits(seen_late, per_window=DEFAULT_BURST)),
        "command_to_video": Summary.of(at - sent_at[i] for i, at in delivered.items()),
        "edits_per_job": sum(message.edit_count for message in world.bot_messages()) / jobs,
        "channel_writes_per_job": _channel_writes(world) / jobs,
        "discord_429s": world.fake.rate_limited_count,
        "bucket_emptied": world.fake.channel_bucket_exhausted,
        "peak_requests_per_second": _peak_rate(polls),
        "peak_jobs_at_runcomfy": _peak_concurrency(emulated.values()),
    }


def _channel_writes(world: BenchWorld) -> int:
    """Creates and edits through `/channels/{id}/messages…`: what draws on the bucket."""
    return sum(
        1
        for record in world.fake.requests
        if record.method in ("POST", "PATCH")
        and "/channels/" in record.path
        and "/messages" in record.path
        and record.status < 400
    )


def _poll_times(world: BenchWorld) -> dict[str, list[float]]:
    """Emulator clock times of every status/result request, per RunComfy request id."""
    times: dict[str, list[float]] = defaultdict(list)
    for record in world.emulator.requests:
        if record.endpoint in POLLS and record.request_id is not None:
            times[record.request_id].append(record.at)
    return times


def _first_at_or_after(times: list[float], moment: float) -> float | None:
    return min((at for at in times if at >= moment), default=None)


def _peak_rate(polls: dict[str, list[float]]) -> int:
    """The most status/result requests in any one emulated second."""
    per_second: dict[int, int] = defaultdict(int)
    for times in polls.values():
        for at in times:
            per_second[int(at)] += 1
    return max(per_second.values(), default=0)


def _peak_concurrency(jobs: Iterable[EmulatedJob]) -> int:
    """The most jobs submitted and not yet finished at RunComfy at any moment."""
    events: list[tuple[float, int]] = []
    for job in jobs:
        events.append((job.submitted_at, 1))
        if job.finished_at is not None:
            events.append((job.finished_at, -1))
    current = peak = 0
    for _, change in sorted(events, key=lambda event: (event[0], event[1])):
        current += change
        peak = max(peak, current)
    return peak
