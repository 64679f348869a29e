from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.bot.jobs.rig import Rig, close_rig, open_rig
from tests.bot.jobs.shared_world import World, open_world
from tests.bot.store.backends import StoreBackend


@pytest.fixture
async def make_rig(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Rig]]]:
    """Open a tracker rig (emulator, store, doubles); everything is closed after the test."""
    rigs: list[Rig] = []

    async def make(**options: Any) -> Rig:
        rig = await open_rig(tmp_path, **options)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await close_rig(rig)


@pytest.fixture
async def world(backend: StoreBackend) -> AsyncIterator[World]:
    """Trackers sharing one PostgreSQL database, as processes would (`shared_world`)."""
    postgres = backend.settings().postgres
    assert postgres is not None
    async with open_world(postgres.dsn.reveal()) as world:
        yield world
