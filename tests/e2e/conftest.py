from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.logs import install_redaction
from tests.e2e.harness import World, close_world, midday_today, open_world


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


class LogLines(logging.Handler):
    """Every line logged during a test, formatted as the bot's own handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def logged_lines(caplog: pytest.LogCaptureFixture) -> Iterator[LogLines]:
    """Root logging at INFO and discord.py's webhook logger (which prints interaction tokens
    in its URLs) at DEBUG, into a handler that gets the bot's redaction like its own."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="discord.webhook.async_")
    handler = LogLines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def secrets_of(world: World) -> list[str]:
    """The bot token, the RunComfy token, and every interaction token of the test."""
    return [
        world.fake.bot_token,
        world.emulator.token,
        *(interaction.token for interaction in world.fake.interactions),
    ]


def everything_sent(world: World) -> list[str]:
    """Every version of every message the bot wrote (deleted and private ones too), and
    every interaction callback, autocomplete answer and modal, as JSON."""
    texts: list[str] = []
    for channel in world.guild.channels.values():
        for message in world.fake.channel_messages(channel, include_deleted=True):
            for version in message.history or [message.snapshot(message.created_at)]:
                texts.append(json.dumps([version.content, version.embeds, version.components]))
    for interaction in world.fake.interactions:
        texts.extend(json.dumps(callback.data) for callback in interaction.callbacks)
        texts.append(json.dumps([interaction.choices, interaction.modal]))
    return texts


def assert_no_secrets(world: World, log_lines: LogLines) -> None:
    """The scan: no token in anything the bot sent to Discord or logged."""
    secrets = secrets_of(world)
    for text in [*everything_sent(world), *log_lines.lines]:
        leaked = [secret[:12] + "…" for secret in secrets if secret in text]
        assert not leaked, f"a token ({leaked}) reached Discord or the log: {text[:300]!r}"


@pytest.fixture
async def make_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Callable[..., Awaitable[World]]]:
    """A started world (fake Discord, emulator) with the bot logged in; at the end, no
    token may appear in what the bot sent or logged."""
    worlds: list[World] = []
    with logged_lines(caplog) as log_lines:

        async def make(*, start: bool = True, **options: Any) -> World:
            world = await open_world(tmp_path, monkeypatch, **options)
            install_redaction(log_lines, [world.fake.bot_token, world.emulator.token])
            worlds.append(world)
            if start:
                await world.start_bot()
            return world

        yield make
        for world in worlds:
            await close_world(world)
    for world in worlds:
        assert_no_secrets(world, log_lines)


@pytest.fixture
async def world(make_world: Callable[..., Awaitable[World]]) -> World:
    return await make_world()


@pytest.fixture
async def midday_world(make_world: Callable[..., Awaitable[World]]) -> World:
    """A world whose clock starts at noon UTC, for a test that counts per UTC day: run
    just before midnight, its videos and its answer would fall on two days."""
    return await make_world(starts_at=midday_today())
