"""Fixtures for testing the RunComfy emulator with raw HTTP requests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from testkit.runcomfy import ManualClock, RunComfyEmulator


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emulator(clock: ManualClock) -> AsyncIterator[RunComfyEmulator]:
    async with RunComfyEmulator(
        clock=clock, workers=2, generation_time=lambda payload: 60.0
    ) as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session
