"""The benchmark's side of the wire: the fake Discord and the RunComfy emulator in this
process, a community to drive, and exact arrival times of the bot's video messages.

All times the benchmark reports in "emulated seconds" are read from one clock, the
emulator's, so lag never mixes the two processes' clocks. Discord's per-channel rate
limit runs in real time in the fake, so it is shortened by the clock's speed, as the bot
process shortens its own channel pacing: both keep their real proportions on the scaled
clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.clock import ScaledClock
from testkit.discord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
)
from testkit.discord.ratelimit import DISCORD_CHANNEL_LIMIT
from testkit.evidence import DELIVERY
from testkit.load import JobPlan
from testkit.runcomfy import JobOutcome, RunComfyEmulator

MIB = 1024 * 1024


@dataclass
class BenchWorld:
    fake: FakeDiscord
    emulator: RunComfyEmulator
    clock: ScaledClock
    guild: FakeGuild
    channels: list[FakeChannel]
    members: list[FakeMember]
    deliveries: dict[int, float] = field(default_factory=dict)
    """Bot job id → emulator clock time its video message was created at the fake."""

    @property
    def speed(self) -> float:
        return self.clock.speed

    def settings(self, database: Path, **overrides: str) -> dict[str, str]:
        """The bot's environment: tokens and addresses of the fakes, plus `overrides`."""
        return {
            "DISCORD_TOKEN": self.fake.bot_token,
            "RUNCOMFY_API_TOKEN": self.emulator.token,
            "RUNCOMFY_API_BASE": self.emulator.base_url,
            "DATABASE_URL": f"sqlite:///{database.resolve()}",
            "DISCORD_GUILD_IDS": str(self.guild.id),
            **overrides,
        }

    async def generate(self, plan: JobPlan) -> FakeInteraction:
        """The plan's member runs `/video generate` in the plan's channel."""
        return await self.fake.invoke_slash(
            self.channels[plan.channel],
            self.members[plan.member],
            "video",
            subcommand="generate",
            options={"prompt": plan.prompt, "duration": plan.duration},
        )

    def bot_messages(self) -> list[FakeMessage]:
        """The bot's public channel messages (status messages and notices)."""
        bot_id = self.fake.bot_user.id
        return [
            message
            for channel in self.channels
            for message in self.fake.channel_messages(channel, include_ephemeral=False)
            if message.author.id == bot_id
        ]

    def _record_delivery(self, message: FakeMessage) -> None:
        if message.author.id != self.fake.bot_user.id or message.ephemeral:
            return
        match = DELIVERY.search(message.text)
        if match is not None:
            self.deliveries.setdefault(int(match[1]), self.clock.now())

    async def close(self) -> None:
        await self.emulator.close()
        await self.fake.close()


async def open_world(
    *,
    speed: float,
    channels: int = 1,
    members: int = 1,
    upload_limit: int | None = None,
    generation_time: Callable[[Mapping[str, Any]], float] | None = None,
    queue_delay: Callable[[Mapping[str, Any]], float] | None = None,
    workers: int = 100_000,
    outcome: Callable[[Mapping[str, Any]], JobOutcome] | None = None,
) -> BenchWorld:
    """Start both fakes on 127.0.0.1 with one guild of `members` across `channels`."""
    clock = ScaledClock(speed)
    count, per = DISCORD_CHANNEL_LIMIT
    fake = await FakeDiscord(channel_rate_limit=(count, per / speed)).start()
    emulator_options: dict[str, Any] = {"queue_delay": queue_delay, "outcome": outcome}
    if generation_time is not None:
        emulator_options["generation_time"] = generation_time
    emulator = RunComfyEmulator(clock=clock, workers=workers, **emulator_options)
    await emulator.start()
    guild = fake.add_guild("Prompt Club", upload_limit=upload_limit)
    world = BenchWorld(
        fake=fake,
        emulator=emulator,
        clock=clock,
        guild=guild,
        channels=[fake.add_text_channel(guild, f"session-{n + 1}") for n in range(channels)],
        members=[],
    )
    world.members = [fake.add_member(guild, f"member-{n + 1}") for n in range(members)]
    fake.on_message_created(world._record_delivery)
    return world
