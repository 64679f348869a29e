"""Fixtures: the real RunComfyClient wired to the in-repo emulator; the store databases."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.clock import Clock
from bot.runcomfy.client import RunComfyClient
from bot.secret import Secret
from testkit.runcomfy import ManualClock, RunComfyEmulator
from tests.bot.store.backends import KINDS, StoreBackend, fresh_backend

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


@pytest.fixture(params=KINDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    """A fresh, empty database of each kind (a new database on the shared server)."""
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    return await fresh_backend(request.param, tmp_path, server)
