"""The health endpoint of the real bot (HEALTH_PORT=0: a free port on 127.0.0.1): ready once
logged in, metrics that match what the fakes saw, and gone once the bot is closed."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import aiohttp
import discord
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import VideoBot
from bot.config import ConfigError
from testkit.runcomfy import API_ENDPOINTS, Endpoint
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
        "problem": "the job scheduler is not running",
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
