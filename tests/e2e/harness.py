"""The real bot, end to end: discord.py against the fake Discord, RunComfy's emulator,
one fast clock for both, and a fresh SQLite file per test."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord

from bot.app import VideoBot
from bot.clock import ScaledClock
from bot.config import Settings, load_settings
from bot.tuning import Tuning
from testkit.discord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    permissions,
)
from testkit.runcomfy import RunComfyEmulator

SPEED = 100.0
"""Clock seconds per real second for RunComfy and the tracker."""

MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
JOB_FOOTER = re.compile(r"(?:Job|Auftrag) #(\d+)")


@dataclass
class World:
    fake: FakeDiscord
    emulator: RunComfyEmulator
    clock: ScaledClock
    tmp_path: Path
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeMember
    bob: FakeMember
    mod_by_permission: FakeMember
    mod_by_role: FakeMember
    mod_role: FakeRole
    admin: FakeMember
    """Has Manage Server, so may change settings (but is no moderator)."""
    env: dict[str, str]
    tuning: Tuning
    bot: VideoBot | None = None
    _task: asyncio.Task[None] | None = None
    bots: list[VideoBot] = field(default_factory=list)
    others: list[tuple[VideoBot, asyncio.Task[None]]] = field(default_factory=list)
    """Further bot processes beside `bot` (`start_another_bot`), stopped with the world."""

    def settings(self, **env: str) -> Settings:
        return load_settings({**self.env, **env}, base_dir=self.tmp_path)

    async def start_bot(self) -> VideoBot:
        bot, task = await self._launch(self.settings())
        self.bot, self._task = bot, task
        return bot

    async def start_another_bot(self, **env: str) -> VideoBot:
        """One more bot process sharing the fakes, with its own settings on top of the
        world's (e.g. ``SHARD_IDS`` and a ``DATABASE_URL`` of its own)."""
        bot, task = await self._launch(self.settings(**env))
        self.others.append((bot, task))
        return bot

    async def _launch(self, settings: Settings) -> tuple[VideoBot, asyncio.Task[None]]:
        bot = VideoBot(settings, clock=self.clock, tuning=self.tuning)
        task = asyncio.create_task(bot.start(self.fake.bot_token))
        ready = asyncio.create_task(self.fake.wait_until_ready(timeout=15, new=True))
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()
        await ready
        await asyncio.wait_for(bot.wait_until_ready(), 15)
        self.bots.append(bot)
        return bot, task

    async def stop_bot(self) -> None:
        if self.bot is None:
            return
        await self.bot.close()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 10)
        self.bot, self._task = None, None

    async def stop_others(self) -> None:
        for bot, task in self.others:
            await bot.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
        self.others.clear()

    async def restart_bot(self) -> VideoBot:
        await self.stop_bot()
        return await self.start_bot()

    async def generate(self, member: FakeMember | None = None, **options: Any) -> FakeInteraction:
        options.setdefault("prompt", "a red fox running through fresh snow at dawn")
        return await self.command("generate", member, **options)

    async def command(
        self,
        subcommand: str,
        member: FakeMember | None = None,
        *,
        in_channel: FakeChannel | None = None,
        **options: Any,
    ) -> FakeInteraction:
        """`/video <subcommand>` (or `"settings limits"`) as `member` (alice by default)."""
        return await self.fake.invoke_slash(
            in_channel or self.channel,
            member or self.alice,
            "video",
            subcommand=subcommand,
            options=options,
        )

    async def answer(self, interaction: FakeInteraction) -> FakeMessage:
        """What the member reads: the reply once it has content, or the private follow-up
        that replaced a withdrawn public reply."""
        return await interaction.wait_answer(timeout=10)

    async def status_message(self, job_id: int, within: float = 10.0) -> FakeMessage:
        return await self.fake.wait_for_message(
            self.channel, lambda m: job_id_of(m) == job_id, timeout=within
        )

    async def job_id(self, interaction: FakeInteraction) -> int:
        """The job number of an accepted command: its public reply is the status message."""
        reply = await interaction.wait_answer(timeout=10)
        job_id = job_id_of(reply)
        assert job_id is not None, f"no job in the reply: {reply.content!r} {reply.embeds!r}"
        assert not reply.ephemeral, "the status message is the command's public reply"
        return job_id

    async def started_job(self, interaction: FakeInteraction) -> tuple[int, FakeMessage]:
        """The job id and status message of a /video generate that was accepted."""
        job_id = await self.job_id(interaction)
        return job_id, await self.status_message(job_id)

    async def wait_for_status(
        self, message: FakeMessage, text: str, within: float = 15.0
    ) -> FakeMessage:
        """The status message once its embed shows `text`."""
        return await self.fake.wait_for_edit(
            message, lambda m: text in embed_text(m), timeout=within
        )

    async def wait_for_notice(self, job_id: int, within: float = 15.0) -> FakeMessage:
        return await self.fake.wait_for_message(
            self.channel, lambda m: is_notice(m, job_id), timeout=within
        )

    def notices(self, job_id: int) -> list[FakeMessage]:
        return [m for m in self.fake.channel_messages(self.channel) if is_notice(m, job_id)]


def is_notice(message: FakeMessage, job_id: int) -> bool:
    """A job's final message: public, in the channel, naming the job (a result card's
    text displays, or a message's content)."""
    return not message.ephemeral and f"**#{job_id}**" in message.text


def embed_text(message: FakeMessage) -> str:
    """Everything an embed shows, as one string."""
    parts: list[str] = []
    for embed in message.embeds:
        parts.extend(str(embed.get(key, "")) for key in ("title", "description"))
        for item in embed.get("fields", []):
            parts.extend((str(item.get("name", "")), str(item.get("value", ""))))
        parts.append(str(embed.get("footer", {}).get("text", "")))
    return "\n".join(parts)


def job_id_of(message: FakeMessage) -> int | None:
    match = JOB_FOOTER.search(embed_text(message))
    return int(match[1]) if match else None


def cancel_id(job_id: int) -> str:
    return f"video:cancel:{job_id}"


def midday_today() -> float:
    """Noon UTC of today: a world started then keeps a test's videos and answers on one
    UTC day (quotas, budgets and usage count per UTC day)."""
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0).timestamp()


def origin_for(starts_at: float) -> float:
    """The origin that makes a `ScaledClock(SPEED)` created now read `starts_at` (a Unix
    time): for a test whose words depend on the day, away from a day's end."""
    return (starts_at - time.time() * SPEED) / (1.0 - SPEED)


async def open_world(
    tmp_path: Path,
    monkeypatch: Any,
    *,
    fake_options: dict[str, Any] | None = None,
    emulator_options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    guild_options: dict[str, Any] | None = None,
    tuning: Tuning | None = None,
    starts_at: float | None = None,
) -> World:
    clock = ScaledClock(SPEED, origin=None if starts_at is None else origin_for(starts_at))
    fake = await FakeDiscord(**{"channel_rate_limit": (5, 0.25), **(fake_options or {})}).start()
    fake.patch_discord(monkeypatch)
    emulator = RunComfyEmulator(
        clock=clock,
        **{"workers": 2, "generation_time": lambda payload: 40.0, **(emulator_options or {})},
    )
    await emulator.start()
    guild = fake.add_guild("Prompt Club", **(guild_options or {}))
    channel = fake.add_text_channel(
        guild, "video-session", bot_permissions=permissions.DEFAULT_BOT | permissions.THREADS
    )
    mod_role = fake.add_role(guild, "Session mods")
    return World(
        fake=fake,
        emulator=emulator,
        clock=clock,
        tmp_path=tmp_path,
        guild=guild,
        channel=channel,
        alice=fake.add_member(guild, "alice"),
        bob=fake.add_member(guild, "bob"),
        mod_by_permission=fake.add_member(
            guild,
            "marta",
            permissions=permissions.DEFAULT_MEMBER
            | discord.Permissions(manage_messages=True).value,
        ),
        mod_by_role=fake.add_member(guild, "rolf", roles=(mod_role,)),
        mod_role=mod_role,
        admin=fake.add_member(guild, "ada", permissions=permissions.DEFAULT_MEMBER | MANAGE_GUILD),
        env={
            "DISCORD_TOKEN": fake.bot_token,
            "RUNCOMFY_API_TOKEN": emulator.token,
            "RUNCOMFY_API_BASE": emulator.base_url,
            "DATABASE_URL": "sqlite:///data/bot.sqlite3",
            "MODERATOR_ROLE_IDS": str(mod_role.id),
            **(env or {}),
        },
        tuning=tuning
        or Tuning(
            channel_edit_interval=0.07,
            status_refresh_interval=0.07,
            guild_ready_timeout=0.05,
            identify_interval=0.0,
        ),
    )


async def close_world(world: World) -> None:
    await world.stop_others()
    await world.stop_bot()
    await world.emulator.close()
    await world.fake.close()
