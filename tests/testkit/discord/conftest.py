"""Fixtures: a started fake pointed at by discord.py, a small world, and running sample bots."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import pytest

from testkit.discord import FakeChannel, FakeDiscord, FakeGuild, FakeInteraction, FakeMember

from .raw_api import RawApi
from .sample_bot import SampleBot

MakeFake = Callable[..., Awaitable[FakeDiscord]]
StartBot = Callable[..., Awaitable[SampleBot]]


@dataclass
class Scene:
    fake: FakeDiscord
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeMember
    bob: FakeMember


WATCHED_LOGGERS = ("discord", "aiohttp.server")


def logged_so_far(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records of setup, call and teardown so far: after ``yield`` ``caplog.records`` holds
    only the teardown phase, so an error logged by the test body would go unseen."""
    return [
        record for phase in ("setup", "call", "teardown") for record in caplog.get_records(phase)
    ]


@pytest.fixture(autouse=True)
def discord_py_logged_no_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A payload discord.py cannot parse, or a crash in the fake (a 500), only shows up as a
    logged exception: fail on it."""
    yield
    failures = [
        r
        for r in logged_so_far(caplog)
        if r.name.startswith(WATCHED_LOGGERS) and r.levelno >= logging.ERROR
    ]
    assert not failures, "discord.py or the fake logged errors:\n" + "\n".join(
        f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in failures
    )


@pytest.fixture
async def make_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MakeFake]:
    """Start a FakeDiscord with the given settings and point discord.py at it."""
    fakes: list[FakeDiscord] = []

    async def make(**config: Any) -> FakeDiscord:
        fake = await FakeDiscord(**config).start()
        fakes.append(fake)
        fake.patch_discord(monkeypatch)
        return fake

    yield make
    for fake in fakes:
        await fake.close()


def build_scene(fake: FakeDiscord, **guild_options: Any) -> Scene:
    guild = fake.add_guild("Test Guild", **guild_options)
    return Scene(
        fake=fake,
        guild=guild,
        channel=fake.add_text_channel(guild, "videos"),
        alice=fake.add_member(guild, "alice"),
        bob=fake.add_member(guild, "bob"),
    )


@pytest.fixture
async def scene(make_fake: MakeFake) -> Scene:
    return build_scene(await make_fake())


@pytest.fixture
async def start_bot() -> AsyncIterator[StartBot]:
    """Log a SampleBot in (login, sync, gateway) and wait for on_ready; closed at teardown."""
    running: list[tuple[SampleBot, asyncio.Task[None]]] = []

    async def start(
        fake: FakeDiscord, *, cls: type[SampleBot] = SampleBot, **options: Any
    ) -> SampleBot:
        bot = cls(**options)
        task = asyncio.create_task(bot.start(fake.bot_token))
        running.append((bot, task))
        ready = asyncio.create_task(bot.ready_event.wait())
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()
        assert bot.ready_event.is_set(), "bot did not become ready"
        return bot

    yield start
    for bot, task in running:
        await bot.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)


@pytest.fixture
async def bot(scene: Scene, start_bot: StartBot) -> SampleBot:
    return await start_bot(scene.fake)


@pytest.fixture
async def raw(make_fake: MakeFake) -> AsyncIterator[tuple[RawApi, Scene]]:
    """Raw HTTP with the bot's token against a fake whose channel bucket never gets in the way."""
    scene = build_scene(await make_fake(channel_rate_limit=(10_000, 1.0)))
    async with aiohttp.ClientSession() as http:
        yield RawApi(scene.fake, http), scene


SILENT_COMMANDS = [
    {
        "type": 1,
        "name": "pick",
        "description": "Autocomplete of every type",
        "options": [
            {"type": t, "name": n, "description": n, "autocomplete": True}
            for t, n in ((3, "text"), (4, "count"), (10, "ratio"))
        ],
    },
    {"type": 1, "name": "ask", "description": "Opens a modal"},
]


@dataclass
class Silent:
    """A logged-in discord.Client with no command tree: it never answers an interaction,
    so the test's raw callback is the only one."""

    api: RawApi
    scene: Scene

    async def slash(self, channel: FakeChannel | None = None) -> FakeInteraction:
        scene = self.scene
        return await scene.fake.invoke_slash(channel or scene.channel, scene.alice, "ask")

    async def callback(
        self, interaction: FakeInteraction, body: Any, files: Mapping[str, bytes] | None = None
    ) -> tuple[int, Any]:
        if files:
            path = f"/interactions/{interaction.id}/{interaction.token}/callback"
            return await self.api.upload("POST", path, body, files)
        return await self.api.callback(interaction.id, interaction.token, body)

    async def webhook(
        self,
        method: str,
        interaction: FakeInteraction,
        body: Any,
        *,
        message: str | None = None,
        files: Mapping[str, bytes] | None = None,
    ) -> tuple[int, Any]:
        """A follow-up (``message=None``, POST) or an edit of ``@original`` or a message id."""
        path = f"/webhooks/{self.scene.fake.application_id}/{interaction.token}"
        if message is not None:
            path += f"/messages/{message}"
        else:
            path += "?wait=true"
        if files:
            return await self.api.upload(method, path, body, files)
        return await self.api.request(method, path, json=body)


@pytest.fixture
async def silent(raw: tuple[RawApi, Scene]) -> AsyncIterator[Silent]:
    api, scene = raw
    status, _ = await api.put_commands(SILENT_COMMANDS)
    assert status == 200
    client = discord.Client(intents=discord.Intents.default())
    task = asyncio.create_task(client.start(scene.fake.bot_token))
    await scene.fake.wait_until_ready()
    yield Silent(api, scene)
    await client.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 5)
