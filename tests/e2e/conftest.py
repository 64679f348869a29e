from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import World, close_world, open_world


def logged_so_far(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records of setup, call and teardown so far: after ``yield`` ``caplog.records`` holds
    only the teardown phase, so an error logged by the test body would go unseen."""
    return [
        record for phase in ("setup", "call", "teardown") for record in caplog.get_records(phase)
    ]


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """An exception inside discord.py or the bot often only shows up in the log: fail on it."""
    yield
    failures = [record for record in logged_so_far(caplog) if record.levelno >= logging.ERROR]
    assert not failures, "errors were logged:\n" + "\n".join(
        f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in failures
    )


@pytest.fixture
async def make_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Awaitable[World]]]:
    """A started world (fake Discord, emulator) with the bot logged in."""
    worlds: list[World] = []

    async def make(*, start: bool = True, **options: Any) -> World:
        world = await open_world(tmp_path, monkeypatch, **options)
        worlds.append(world)
        if start:
            await world.start_bot()
        return world

    yield make
    for world in worlds:
        await close_world(world)


@pytest.fixture
async def world(make_world: Callable[..., Awaitable[World]]) -> World:
    return await make_world()
