"""A tiny real discord.py bot shaped like the product's surface, to drive the fake with."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

JOBS = ["job-alpha", "job-beta", "job-gamma"]


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"job:cancel:(?P<id>\d+)"
):
    """The status message's Cancel button; its custom id carries the job id across restarts."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Cancel", style=discord.ButtonStyle.danger, custom_id=f"job:cancel:{job_id}"
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> CancelButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = interaction.client
        assert isinstance(bot, SampleBot)
        bot.cancelled.append(self.job_id)
        await interaction.response.edit_message(content=f"Job {self.job_id} cancelled.", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text = discord.ui.TextInput(label="Your feedback", custom_id="feedback", max_length=200)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.text.value}", ephemeral=True)


class SampleBot(commands.Bot):
    """``/video generate|status|feedback`` plus hooks tests use to observe the client side."""

    def __init__(
        self, *, ack_delay: float = 0.0, reidentify_delay: float = 5.0, **options: Any
    ) -> None:
        options.setdefault("intents", discord.Intents.default())
        options.setdefault("guild_ready_timeout", 0.01)
        super().__init__(command_prefix="!", **options)
        self.ack_delay = ack_delay
        self.reidentify_delay = reidentify_delay
        self.ready_event = asyncio.Event()
        self.cancelled: list[int] = []
        self.interactions: list[discord.Interaction] = []
        self.failures: list[Exception] = []
        self.callback_responses: list[discord.InteractionCallbackResponse[Any]] = []
        self.deleted_message_ids: list[int] = []
        self.render_path: Path | None = None
        self.seen_messages: list[discord.Message] = []

    async def setup_hook(self) -> None:
        self.add_dynamic_items(CancelButton)
        self.tree.add_command(build_video_group(self))
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before every re-IDENTIFY; tests may shorten that."""
        if not initial:
            await asyncio.sleep(self.reidentify_delay)

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        self.deleted_message_ids.append(payload.message_id)


def build_video_group(bot: SampleBot) -> app_commands.Group:
    video = app_commands.Group(name="video", description="Generate videos")

    @video.command(description="Generate a video from a prompt")
    @app_commands.describe(prompt="What to show", duration="Seconds")
    @app_commands.choices(
        aspect_ratio=[
            app_commands.Choice(name="Landscape", value="16:9"),
            app_commands.Choice(name="Portrait", value="9:16"),
        ]
    )
    async def generate(
        interaction: discord.Interaction,
        prompt: str,
        duration: app_commands.Range[int, 3, 15] = 5,
        aspect_ratio: str = "16:9",
    ) -> None:
        bot.interactions.append(interaction)
        if bot.ack_delay:
            await asyncio.sleep(bot.ack_delay)
        try:
            response = await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as exc:
            bot.failures.append(exc)
            return
        if response is not None:
            bot.callback_responses.append(response)
        view = discord.ui.View(timeout=None)
        view.add_item(CancelButton(interaction.id))
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send(
            f"Queued {interaction.user.mention}: {prompt} ({duration}s, {aspect_ratio})",
            view=view,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await interaction.followup.send(f"Job {interaction.id} queued.", ephemeral=True)

    @video.command(description="Show a job's status")
    async def status(interaction: discord.Interaction, job: str) -> None:
        bot.interactions.append(interaction)
        await interaction.response.send_message(f"{job}: running", ephemeral=True)

    @status.autocomplete("job")
    async def job_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=j, value=j) for j in JOBS if current in j]

    @video.command(description="Send feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        bot.interactions.append(interaction)
        await interaction.response.send_modal(FeedbackModal())

    @video.command(description="Deliver the rendered file")
    async def render(interaction: discord.Interaction, inline: bool = False) -> None:
        bot.interactions.append(interaction)
        assert bot.render_path is not None
        try:
            if inline:
                await interaction.response.send_message(file=discord.File(bot.render_path))
                return
            await interaction.response.defer()
            await interaction.followup.send("Done!", file=discord.File(bot.render_path))
        except discord.HTTPException as exc:
            bot.failures.append(exc)

    return video
