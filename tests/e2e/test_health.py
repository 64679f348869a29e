"""The health endpoint of the real bot (HEALTH_PORT=0: a free port on 127.0.0.1): ready once
logged in, metrics that match what the fakes saw, gone once the bot is closed, and harmless
to the bot under a slowloris of 1,100 connections."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import VideoBot
from bot.clock import ScaledClock
from bot.config import ConfigError
from testkit.discord import FakeChannel, FakeDiscord, FakeMember
from testkit.evidence import DELIVERY, job_number
from testkit.process import ANSI, ROOT, BotProcess
from testkit.runcomfy import API_ENDPOINTS, Endpoint, RunComfyEmulator
from tests.e2e.fd_limited_bot import OPEN_FILES
from tests.e2e.harness import World

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def base_url(world: World) -> str:
    assert world.bot is not None
    assert world.bot.health is not None
    host, port = world.bot.health.address
    return f"http://{host}:{port}"


async def get_json(world: World, path: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url(world) + path) as response,
    ):
        return response.status, await response.json()


async def scrape(world: World) -> Samples:
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url(world) + "/metrics") as response,
    ):
        assert response.status == 200
        text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def ready(world: World, within: float = 5.0) -> Any:
    """/readyz once it says 200 (the first heartbeat may still be on its way)."""
    deadline = time.monotonic() + within
    while True:
        status, body = await get_json(world, "/readyz")
        if status == 200 or time.monotonic() > deadline:
            assert status == 200, body
            return body
        await asyncio.sleep(0.05)


async def test_ready_once_logged_in_and_gone_once_closed(make_world) -> None:
    world = await make_world(env={"HEALTH_PORT": "0"})
    assert await ready(world) == {
        "status": "ok",
        "checks": {"gateway": {"ok": True}, "database": {"ok": True}, "scheduler": {"ok": True}},
    }
    assert await get_json(world, "/healthz") == (
        200,
        {"status": "ok", "checks": {"scheduler": {"ok": True}}},
    )
    url = base_url(world)
    await world.stop_bot()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(url + "/healthz")


async def test_a_stopped_scheduler_fails_liveness(make_world) -> None:
    world = await make_world(env={"HEALTH_PORT": "0"})
    await ready(world)
    assert world.bot is not None
    await world.bot.tracker.close()
    status, body = await get_json(world, "/healthz")
    assert status == 503
    assert body["checks"]["scheduler"] == {
        "ok": False,
        "problem": "the job scheduler or the sessions' timer is not running",
    }
    status, body = await get_json(world, "/readyz")
    assert status == 503
    assert [name for name, check in body["checks"].items() if not check["ok"]] == ["scheduler"]


async def test_metrics_after_a_job_match_what_runcomfy_and_discord_saw(make_world) -> None:
    world = await make_world(env={"HEALTH_PORT": "0"})
    assert world.bot is not None
    before = await scrape(world)
    assert value(before, "kling_bot_runcomfy_requests_total", call="submit", outcome="ok") == 0

    world.emulator.fail(Endpoint.STATUS, 503, times=1)
    job_id, status = await world.started_job(await world.generate())
    running = await scrape(world)
    assert sum(count for (name, _), count in running.items() if name == "kling_bot_jobs") == 1
    await world.wait_for_notice(job_id)
    await world.wait_for_status(status, "Delivered")

    # One post into a channel whose bucket another process used up: Discord answers 429.
    world.fake.exhaust_rate_limit(world.channel)
    channel = world.bot.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("after the 429")
    assert world.fake.rate_limited_count == 1

    after = await scrape(world)
    requests = "kling_bot_runcomfy_requests_total"
    assert value(after, requests, call="submit", outcome="ok") == 1
    for endpoint in API_ENDPOINTS:
        made = sum(value(after, requests, call=endpoint.value, outcome=o) for o in ("ok", "error"))
        assert made == world.emulator.count(endpoint), endpoint
    assert value(after, "kling_bot_runcomfy_errors_total", call="status", kind="server") == 1
    assert value(after, requests, call="status", outcome="error") == 1

    assert value(after, "kling_bot_jobs_finished_total", state="delivered") == 1
    assert value(after, "kling_bot_delivery_lag_seconds_count") == 1
    assert value(after, "kling_bot_delivery_lag_seconds_sum") > 0
    assert all(count == 0 for (name, _), count in after.items() if name == "kling_bot_jobs"), (
        "a delivered job is no longer held"
    )

    assert value(after, "kling_bot_discord_rate_limited_total", scope="user") == 1


async def test_a_taken_port_stops_start_up_naming_the_setting(make_world) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        world = await make_world(start=False, env={"HEALTH_PORT": str(port)})
        bot = VideoBot(world.settings(), clock=world.clock, tuning=world.tuning)
        try:
            with pytest.raises(ConfigError, match=f"^HEALTH_PORT is {port}, but"):
                await bot.start(world.fake.bot_token)
        finally:
            await bot.close()
    assert not bot.tracker.is_running()


# ----------------------------------------------------------------------------- slowloris

ATTACK = 1100
"""Slow connections at once: more than the bot process's 1,024 descriptors."""
HEALTH_LINE = re.compile(r"health endpoint on http://([0-9.]+):(\d+)")
SPEED = 20.0


@contextlib.asynccontextmanager
async def slowloris(address: tuple[str, int], connections: int) -> AsyncIterator[list[int]]:
    """`tests.e2e.slowloris` against `address` until the block ends, every connection's first
    attempt over when it begins; the list holds, afterwards, how many the server ended."""
    attacker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.slowloris",
        *map(str, (*address, connections)),
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
    )
    assert attacker.stdout is not None
    ended: list[int] = []
    try:
        line = (await asyncio.wait_for(attacker.stdout.readline(), 30)).decode()
        if line.startswith("CANNOT"):
            pytest.skip(line)
        assert line == "BEGUN\n", line
        yield ended
        attacker.terminate()
        line = (await asyncio.wait_for(attacker.stdout.readline(), 10)).decode()
        ended.append(int(line.removeprefix("ENDED ")))
    finally:
        if attacker.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                attacker.kill()
        await attacker.wait()


async def probe(url: str) -> tuple[float, int | str]:
    """Real seconds until /healthz answered or refused, and its status (or the refusal)."""
    began = time.monotonic()
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
            session.get(url) as response,
        ):
            outcome: int | str = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        outcome = type(error).__name__
    return time.monotonic() - began, outcome


def open_descriptors(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


@contextlib.asynccontextmanager
async def peak_descriptors(pid: int, peak: list[int]) -> AsyncIterator[None]:
    """Samples the process's open descriptors every 20 ms; the most seen in `peak[0]`."""

    async def sample() -> None:
        while True:
            peak[0] = max(peak[0], open_descriptors(pid))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    try:
        yield
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler


def health_address(bot: BotProcess) -> tuple[str, int]:
    match = HEALTH_LINE.search(ANSI.sub("", bot.log_path.read_text(errors="replace")))
    assert match is not None, bot.log_tail()
    return match[1], int(match[2])


@dataclass
class Member:
    fake: FakeDiscord
    channel: FakeChannel
    alice: FakeMember

    async def generate(self) -> int:
        """`/video generate`, answered with its job; returns once the video is posted."""
        interaction = await self.fake.invoke_slash(
            self.channel,
            self.alice,
            "video",
            subcommand="generate",
            options={"prompt": "a red fox running through fresh snow at dawn"},
        )
        answer = await interaction.wait_answer(timeout=10)
        job_id = job_number(interaction)
        assert job_id is not None, (answer.content, answer.embeds)
        await self.fake.wait_for_message(
            self.channel,
            lambda m: (match := DELIVERY.search(m.text)) is not None and int(match[1]) == job_id,
            timeout=15,
        )
        return job_id


@pytest.fixture
async def limited_bot(tmp_path: Path) -> AsyncIterator[tuple[BotProcess, Member]]:
    """The bot as a process that may open 1,024 files and cannot raise that, with its health
    endpoint on a free port, the fake Discord and RunComfy's emulator."""
    fake = await FakeDiscord(channel_rate_limit=(5, 5 / SPEED)).start()
    emulator = RunComfyEmulator(clock=ScaledClock(SPEED), generation_time=lambda _: 20.0)
    await emulator.start()
    guild = fake.add_guild("Prompt Club")
    member = Member(
        fake, fake.add_text_channel(guild, "video-session"), fake.add_member(guild, "alice")
    )
    env = {
        "DISCORD_TOKEN": fake.bot_token,
        "RUNCOMFY_API_TOKEN": emulator.token,
        "RUNCOMFY_API_BASE": emulator.base_url,
        "DATABASE_URL": f"sqlite:///{(tmp_path / 'bot.sqlite3').resolve()}",
        "HEALTH_PORT": "0",
        "HEALTH_HOST": "127.0.0.1",
    }
    try:
        bot = await BotProcess.start(
            fake,
            env,
            workdir=tmp_path,
            speed=SPEED,
            guild_ready_timeout=0.2,
            module="tests.e2e.fd_limited_bot",
        )
        try:
            await bot.wait_on_ready()
            yield bot, member
        finally:
            await bot.stop()
    finally:
        await emulator.close()
        await fake.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
async def test_a_slowloris_of_1100_connections_leaves_commands_answered(
    limited_bot: tuple[BotProcess, Member],
) -> None:
    """1,100 connections that never finish their headers, more than the bot may open
    files, neither starve it nor hang /healthz."""
    bot, member = limited_bot
    host, port = health_address(bot)
    url = f"http://{host}:{port}/healthz"
    assert (await probe(url))[1] == 200
    peak = [0]
    async with peak_descriptors(bot.pid, peak), slowloris((host, port), ATTACK) as ended:
        await asyncio.sleep(1.0)
        command = asyncio.create_task(member.generate())
        probes = []
        for _ in range(5):
            probes.append(await probe(url))
            await asyncio.sleep(0.2)
        await command
        probes.append(await probe(url))
    print(f"probes {probes}, peak descriptors {peak[0]}, ended by the bot {ended}")
    assert ended[0] > ATTACK, "the bot ended the slow connections"
    assert all(seconds < 1.0 for seconds, _ in probes), probes
    assert 200 in [outcome for _, outcome in probes], probes
    assert peak[0] <= OPEN_FILES // 2, "the health port kept to its share of descriptors"
    assert bot.logged_problems() == []


async def test_a_stopped_sessions_timer_fails_liveness(make_world) -> None:
    """Sessions' deadlines and recaps run on their own timer: a dead one is a dead bot."""
    world = await make_world(env={"HEALTH_PORT": "0"})
    await ready(world)
    assert world.bot is not None
    await world.bot.session_side.sessions.close()
    status, body = await get_json(world, "/healthz")
    assert status == 503
    assert body["checks"]["scheduler"]["ok"] is False
