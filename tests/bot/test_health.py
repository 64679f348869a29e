"""The health endpoint: every check named, 200 or 503, metrics as Prometheus text."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import discord
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.config import ConfigError, HealthSettings
from bot.health import (
    Check,
    HealthServer,
    database_check,
    gateway_check,
    scheduler_check,
)
from bot.jobs.ports import StoreError
from bot.metrics import BotMetrics


@dataclass
class Parts:
    """What the checks look at, each switchable by a test."""

    gateway_up: bool = True
    database_up: bool = True
    database_hangs: bool = False
    writable: bool = True
    scheduler_alive: bool = True

    async def ping(self) -> int:
        if self.database_hangs:
            await asyncio.sleep(60)
        if not self.database_up:
            raise StoreError("OperationalError: unable to open database file")
        return 3

    def gateway(self) -> Check:
        async def check() -> str | None:
            return None if self.gateway_up else "not connected yet"

        return check

    def server(self, metrics: BotMetrics | None = None) -> HealthServer:
        scheduler = scheduler_check(lambda: self.scheduler_alive)
        return HealthServer(
            live={"scheduler": scheduler},
            ready={
                "gateway": self.gateway(),
                "database": database_check(self.ping, lambda: self.writable),
                "scheduler": scheduler,
            },
            registry=(metrics or BotMetrics()).registry,
            timeout=0.2,
        )


HttpClient = TestClient[web.Request, web.Application]
Client = Callable[[HealthServer], Awaitable[HttpClient]]


@pytest.fixture
async def client_for() -> AsyncIterator[Client]:
    clients: list[HttpClient] = []

    async def make(server: HealthServer) -> HttpClient:
        client = TestClient(TestServer(server.app(), host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def answer(client: HttpClient, path: str) -> tuple[int, dict[str, object]]:
    response = await client.get(path)
    return response.status, await response.json()


async def test_all_well_is_200_naming_every_check(client_for: Client) -> None:
    client = await client_for(Parts().server())
    assert await answer(client, "/readyz") == (
        200,
        {
            "status": "ok",
            "checks": {
                "gateway": {"ok": True},
                "database": {"ok": True},
                "scheduler": {"ok": True},
            },
        },
    )
    assert await answer(client, "/healthz") == (
        200,
        {"status": "ok", "checks": {"scheduler": {"ok": True}}},
    )


async def test_a_database_down_is_not_ready_and_says_so(client_for: Client) -> None:
    parts = Parts(database_up=False)
    client = await client_for(parts.server())
    status, body = await answer(client, "/readyz")
    assert status == 503
    assert body["status"] == "failing"
    assert body["checks"] == {
        "gateway": {"ok": True},
        "database": {
            "ok": False,
            "problem": "StoreError: OperationalError: unable to open database file",
        },
        "scheduler": {"ok": True},
    }
    assert (await answer(client, "/healthz"))[0] == 200, "a database outage is no reason to restart"


async def test_a_hung_database_fails_within_the_timeout(client_for: Client) -> None:
    client = await client_for(Parts(database_hangs=True).server())
    status, body = await asyncio.wait_for(answer(client, "/readyz"), 5)
    assert status == 503
    assert body["checks"]["database"] == {"ok": False, "problem": "no answer within 0.2 s"}


async def test_a_database_refusing_writes_is_not_ready(client_for: Client) -> None:
    client = await client_for(Parts(writable=False).server())
    status, body = await answer(client, "/readyz")
    assert status == 503
    assert body["checks"]["database"] == {
        "ok": False,
        "problem": "the database refuses writes",
    }


async def test_a_stopped_scheduler_fails_liveness_and_readiness(client_for: Client) -> None:
    client = await client_for(Parts(scheduler_alive=False).server())
    for path in ("/healthz", "/readyz"):
        status, body = await answer(client, path)
        assert status == 503
        assert body["checks"]["scheduler"] == {
            "ok": False,
            "problem": "the job scheduler or the sessions' timer is not running",
        }


async def test_a_gateway_not_connected_is_not_ready(client_for: Client) -> None:
    client = await client_for(Parts(gateway_up=False).server())
    status, body = await answer(client, "/readyz")
    assert status == 503
    assert body["checks"]["gateway"] == {"ok": False, "problem": "not connected yet"}


async def test_metrics_are_prometheus_text(client_for: Client) -> None:
    metrics = BotMetrics()
    metrics.exchanged("submit", None, 0.3)
    client = await client_for(Parts().server(metrics))
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    [submitted] = [
        s
        for s in families["kling_bot_runcomfy_requests"].samples
        if s.name.endswith("_total") and s.labels == {"call": "submit", "outcome": "ok"}
    ]
    assert submitted.value == 1


async def test_a_client_not_yet_connected_is_named() -> None:
    client = discord.Client(intents=discord.Intents.none())
    assert await gateway_check(client)() == "not connected yet"
    await client.close()
    assert await gateway_check(client)() == "the client is closed"


async def test_it_listens_on_a_free_port_and_stops() -> None:
    server = Parts().server()
    await server.start(HealthSettings(port=0, host="127.0.0.1"))
    host, port = server.address
    assert host == "127.0.0.1"
    assert port > 0
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        assert response.status == 200
    await server.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(f"http://127.0.0.1:{port}/healthz")


async def test_a_taken_port_is_a_clear_setting_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as caught:
            await Parts().server().start(HealthSettings(port=port, host="127.0.0.1"))
    message = str(caught.value)
    assert message.startswith(f"HEALTH_PORT is {port}, but the health endpoint cannot listen")
    assert f"127.0.0.1:{port}" in message
    assert "\n" not in message


async def test_malformed_requests_do_not_flood_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """Anyone who reaches the port may send garbage: each bad request is answered 400, and
    the log gets at most one WARNING a minute for all of them, never an ERROR with a
    traceback per request."""
    server = Parts().server()
    await server.start(HealthSettings(port=0, host="127.0.0.1"))
    _, port = server.address
    caplog.set_level(logging.DEBUG)
    try:
        for _ in range(5):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(200), 5)
            assert b" 400 " in answer.split(b"\r\n")[0], answer
            writer.close()
            await writer.wait_closed()
    finally:
        await server.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "malformed" in warnings[0].getMessage()
