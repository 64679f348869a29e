"""Fixtures: the real RunComfyClient wired to the in-repo emulator; the store databases."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from bot.clock import Clock
from bot.runcomfy.client import RunComfyClient
from bot.secret import Secret
from testkit.postgres import PostgresServer
from testkit.runcomfy import ManualClock, RunComfyEmulator
from tests.bot.store_backends import StoreBackend

GENERATION_SECONDS = 60.0

ClientFactory = Callable[..., RunComfyClient]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[RunComfyEmulator]:
    async with RunComfyEmulator(
        clock=clock, workers=2, generation_time=lambda payload: GENERATION_SECONDS
    ) as emulator:
        yield emulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def make_client(
    session: aiohttp.ClientSession, emulator: RunComfyEmulator, clock: ManualClock
) -> ClientFactory:
    """A client for the emulator; keyword arguments override the constructor's."""

    def make(
        *, on: RunComfyEmulator | None = None, use_clock: Clock | None = None, **kwargs: Any
    ) -> RunComfyClient:
        target = on or emulator
        options: dict[str, Any] = {
            "base_url": target.base_url,
            "token": Secret(target.token),
            "clock": use_clock or clock,
            "connect_timeout": 1.0,
            "read_timeout": 2.0,
            "rng": random.Random(1234),
        }
        options.update(kwargs)
        return RunComfyClient(session, **options)

    return make


@pytest.fixture
def client(make_client: ClientFactory) -> RunComfyClient:
    return make_client()


_database_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    """A fresh, empty database of each kind (a new database on the shared server)."""
    if request.param == "sqlite":
        return StoreBackend("sqlite", f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}", tmp_path)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"store_test_{next(_database_numbers)}"
    conn = await asyncpg.connect(server.dsn())
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return StoreBackend("postgres", server.dsn(name), tmp_path)
