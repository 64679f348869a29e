"""`/video` commands and the job buttons: the Discord face of the job tracker."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.jobs.line import LimitExceeded
from bot.jobs.model import Job, JobOrigin
from bot.jobs.tracker import CancelOutcomeKind, CancelReport
from bot.runcomfy.request import (
    DEFAULT_CFG_SCALE,
    DEFAULT_DURATION,
    DURATION_MAX,
    DURATION_MIN,
    NEGATIVE_PROMPT_MAX_CHARS,
    PROMPT_MAX_CHARS,
    KlingInputError,
    KlingRequest,
)
from cogs.buttons import DYNAMIC_ITEMS
from cogs.notices import ChannelNotifier
from cogs.outbox import ChannelOutbox
from cogs.permissions import REFUSALS, Action, Actor, may
from cogs.status_board import StatusBoard

if TYPE_CHECKING:
    from bot.app import VideoBot

log = logging.getLogger(__name__)

NEEDED_PERMISSIONS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
}


def missing_permissions(permissions: discord.Permissions, *, in_thread: bool) -> list[str]:
    needed = dict(NEEDED_PERMISSIONS)
    if in_thread:
        needed["send_messages_in_threads"] = "Send Messages in Threads"
        del needed["send_messages"]
    return [label for flag, label in needed.items() if not getattr(permissions, flag)]


class VideoCog(commands.Cog, name="Video"):
    """Slash commands to make videos, and the buttons on their status messages."""

    video = app_commands.Group(
        name="video", description="Make short videos with Kling 3.0", guild_only=True
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.outbox = ChannelOutbox(interval=bot.tuning.channel_edit_interval)
        self.board = StatusBoard(
            bot,
            self.outbox,
            pricing=bot.settings.runcomfy.pricing,
            place_in_line=bot.tracker.place_in_line,
        )
        self.notifier = ChannelNotifier(
            bot,
            self.outbox,
            bot.fetcher,
            max_download_bytes=bot.settings.jobs.max_download_bytes,
        )

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.tracker.add_observer(self.board)
        self.bot.tracker.set_notifier(self.notifier)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        await self.outbox.close()

    @video.command(name="generate", description="Turn a text prompt into a video")
    @app_commands.describe(
        prompt="What happens: scene, motion, camera, mood (up to 2,500 characters)",
        duration=f"Length in seconds, {DURATION_MIN}–{DURATION_MAX} (default {DEFAULT_DURATION})",
        aspect_ratio="Shape of the video (default 16:9 landscape)",
        negative_prompt="Things to keep out of the video",
        cfg_scale=f"How closely to follow the prompt, 0–1 (default {DEFAULT_CFG_SCALE})",
        sound="Generate matching sound (default on; costs more)",
    )
    @app_commands.choices(
        aspect_ratio=[
            app_commands.Choice(name="16:9 landscape (default)", value="16:9"),
            app_commands.Choice(name="9:16 portrait", value="9:16"),
            app_commands.Choice(name="1:1 square", value="1:1"),
        ]
    )
    async def generate(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        duration: app_commands.Range[int, DURATION_MIN, DURATION_MAX] | None = None,
        aspect_ratio: app_commands.Choice[str] | None = None,
        negative_prompt: app_commands.Range[str, 1, NEGATIVE_PROMPT_MAX_CHARS] | None = None,
        cfg_scale: app_commands.Range[float, 0.0, 1.0] | None = None,
        sound: bool | None = None,
    ) -> None:
        try:
            request = KlingRequest(
                prompt=prompt,
                duration=duration,
                aspect_ratio=aspect_ratio.value if aspect_ratio is not None else None,
                negative_prompt=negative_prompt,
                cfg_scale=cfg_scale,
                sound=sound,
            )
        except KlingInputError as error:
            await interaction.response.send_message(
                f"❌ {error.user_message} Nothing was sent or charged.", ephemeral=True
            )
            return
        await self.start_job(interaction, request)

    async def start_job(self, interaction: discord.Interaction, request: KlingRequest) -> None:
        """Check the channel, persist the job, post its status message, then let it run."""
        channel = interaction.channel
        missing = missing_permissions(
            interaction.app_permissions, in_thread=isinstance(channel, discord.Thread)
        )
        if missing or channel is None:
            await interaction.response.send_message(
                "❌ I can't post videos in this channel: I need "
                f"{', '.join(missing) or 'access to it'} here. Ask a moderator to grant "
                "that, or use another channel. Nothing was sent or charged.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        tracker = self.bot.tracker
        origin = JobOrigin(
            requester_id=interaction.user.id,
            channel_id=channel.id,
            guild_id=interaction.guild_id,
            upload_limit=interaction.filesize_limit,
        )
        try:
            job = await tracker.create(request, origin)
        except LimitExceeded as error:
            await interaction.edit_original_response(content=f"⏳ {error}")
            return
        embed, view = self.board.render(job)
        try:
            message = await self.outbox.send(
                channel.id,
                lambda: channel.send(  # type: ignore[union-attr]
                    embed=embed,
                    view=view or discord.utils.MISSING,
                    allowed_mentions=discord.AllowedMentions.none(),
                ),
            )
        except discord.HTTPException as error:
            log.warning("job %d: could not post its status message: %s", job.id, error)
            await tracker.cancel(job.id, by=self.bot.user.id if self.bot.user else 0)
            await interaction.edit_original_response(
                content="❌ I couldn't post in this channel, so the video was not started. "
                "Nothing was sent or charged."
            )
            return
        job = await tracker.enqueue(job.id, status_message_id=message.id)
        await interaction.edit_original_response(
            content=f"🎬 Video **#{job.id}** is in line: {message.jump_url}\n"
            "I'll mention you here when it's ready."
        )

    async def cancel_pressed(self, interaction: discord.Interaction, job_id: int) -> None:
        """The Cancel button: the requester or a moderator may cancel until generation starts.

        Acknowledged before the job is looked up, so a slow store never costs the 3 seconds.
        """
        await interaction.response.defer(ephemeral=True, thinking=True)
        job = await self.bot.tracker.fetch(job_id)
        if job is None:
            reply = f"I can't find video #{job_id} any more."
        elif not self.allowed(interaction, Action.CANCEL, job):
            reply = REFUSALS[Action.CANCEL]
        else:
            report = await self.bot.tracker.cancel(job_id, by=interaction.user.id)
            reply = cancel_reply(job_id, report)
        await interaction.edit_original_response(content=reply)

    def allowed(self, interaction: discord.Interaction, action: Action, job: Job) -> bool:
        discord_settings = self.bot.settings.discord
        roles = discord_settings.moderator_role_ids if discord_settings else frozenset()
        return may(
            action,
            Actor.from_interaction(interaction),
            owner_id=job.requester_id,
            moderator_role_ids=roles,
        )


def cancel_reply(job_id: int, report: CancelReport) -> str:
    match report.outcome:
        case CancelOutcomeKind.CANCELLED:
            return f"🚫 Video #{job_id} is cancelled. Nothing was charged for it."
        case CancelOutcomeKind.ALREADY_RUNNING:
            return (
                f"Too late: video #{job_id} has started generating, so it can no longer be "
                "cancelled. It will be posted here when it's done."
            )
        case CancelOutcomeKind.ALREADY_FINISHED:
            state = report.job.state.label.lower() if report.job else "finished"
            return f"Video #{job_id} is already {state}, so there is nothing to cancel."
        case CancelOutcomeKind.NOT_FOUND:
            return f"I can't find video #{job_id} any more."
        case CancelOutcomeKind.UNREACHABLE:
            return (
                f"I couldn't cancel video #{job_id} just now "
                f"({report.detail or 'RunComfy did not answer'}). "
                "It is still queued; try again in a moment."
            )


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VideoCog(bot))
