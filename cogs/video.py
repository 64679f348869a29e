"""`/video`: make videos and follow them — generate, multishot, status, cancel, mine, queue
and usage. The work behind each command is the bot's `JobDesk`; this is the command surface.

Every handler acknowledges its interaction before it touches the store or RunComfy, so a
slow disk or a slow API never costs Discord's three seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_ui.buttons import JobButton
from bot.discord_ui.job_desk import JobDesk
from bot.discord_ui.job_lookup import reader
from bot.discord_ui.multishot import MultishotOptions, ShotsModal, shots_submitter
from bot.discord_ui.replies import reply
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import (
    DEFAULT_CFG_SCALE,
    DEFAULT_DURATION,
    DURATION_MAX,
    DURATION_MIN,
    NEGATIVE_PROMPT_MAX_CHARS,
    PROMPT_MAX_CHARS,
    KlingRequest,
)
from bot.wording import input_refusal

if TYPE_CHECKING:
    from bot.app import VideoBot

ASPECT_RATIO_CHOICES = [
    app_commands.Choice(name="16:9 landscape (default)", value="16:9"),
    app_commands.Choice(name="9:16 portrait", value="9:16"),
    app_commands.Choice(name="1:1 square", value="1:1"),
]
OPTION_DESCRIPTIONS = {
    "aspect_ratio": "Shape of the video (default 16:9 landscape)",
    "negative_prompt": "Things to keep out of the video",
    "cfg_scale": f"How closely to follow the prompt, 0–1 (default {DEFAULT_CFG_SCALE})",
    "sound": "Generate matching sound (default: the server's setting, usually on; costs more)",
}


class VideoCog(commands.Cog, name="Video"):
    """Slash commands to make and manage videos; other extensions add subgroups to `/video`."""

    video = app_commands.Group(
        name="video", description="Make short videos with Kling 3.0", guild_only=True
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @property
    def desk(self) -> JobDesk:
        return self.bot.desk

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(JobButton)
        for cog in self.bot.cogs.values():
            subgroup = getattr(cog, "video_subgroup", None)
            if isinstance(subgroup, app_commands.Group):
                attach(self.video, subgroup)
            for command in getattr(cog, "video_commands", ()):
                attach(self.video, command)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(JobButton)

    # ------------------------------------------------------------- making videos

    @video.command(name="generate", description="Turn a text prompt into a video")
    @app_commands.describe(
        prompt="What happens: scene, motion, camera, mood (up to 2,500 characters)",
        duration=f"Length in seconds, {DURATION_MIN}–{DURATION_MAX} (default {DEFAULT_DURATION})",
        **OPTION_DESCRIPTIONS,
    )
    @app_commands.choices(aspect_ratio=ASPECT_RATIO_CHOICES)
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
            request = KlingRequest.parse(
                prompt=prompt,
                duration=self.desk.duration_for(interaction, duration),
                aspect_ratio=aspect_ratio.value if aspect_ratio is not None else None,
                negative_prompt=negative_prompt,
                cfg_scale=cfg_scale,
                sound=self.desk.sound_for(interaction, sound),
            )
        except KlingInputError as error:
            tr = reader(interaction)
            reason = input_refusal(error, tr)
            await reply(interaction, tr("desk.input_refused", reason=reason))
            return
        await self.desk.start_job(interaction, request)

    @video.command(name="multishot", description="A video of 2–5 shots, each with its own prompt")
    @app_commands.describe(
        prompt="What the whole video is about (up to 2,500 characters)", **OPTION_DESCRIPTIONS
    )
    @app_commands.choices(aspect_ratio=ASPECT_RATIO_CHOICES)
    async def multishot(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, PROMPT_MAX_CHARS],
        aspect_ratio: app_commands.Choice[str] | None = None,
        negative_prompt: app_commands.Range[str, 1, NEGATIVE_PROMPT_MAX_CHARS] | None = None,
        cfg_scale: app_commands.Range[float, 0.0, 1.0] | None = None,
        sound: bool | None = None,
    ) -> None:
        refusal = self.desk.form_refusal(interaction)
        if refusal:
            await reply(interaction, refusal)
            return
        options = MultishotOptions(
            prompt=prompt,
            aspect_ratio=aspect_ratio.value if aspect_ratio is not None else None,
            negative_prompt=negative_prompt,
            cfg_scale=cfg_scale,
            sound=self.desk.sound_for(interaction, sound),
        )
        submit = shots_submitter(self.desk.start_job)
        await interaction.response.send_modal(ShotsModal(options, submit, tr=reader(interaction)))

    # -------------------------------------------------------------- job commands

    @video.command(name="status", description="Where one of your videos is")
    @app_commands.describe(job="Which video (default: your latest)")
    async def status(self, interaction: discord.Interaction, job: int | None = None) -> None:
        await self.desk.status_asked(interaction, job)

    @video.command(name="cancel", description="Cancel a video that has not started generating")
    @app_commands.describe(job="Which video (default: your latest one that can be cancelled)")
    async def cancel(self, interaction: discord.Interaction, job: int | None = None) -> None:
        await self.desk.cancel_asked(interaction, job)

    @status.autocomplete("job")
    async def status_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return self.desk.job_choices(interaction, current)

    @cancel.autocomplete("job")
    async def cancel_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return self.desk.job_choices(interaction, current, cancellable=True)

    @video.command(name="mine", description="Your recent videos and where to find them")
    async def mine(self, interaction: discord.Interaction) -> None:
        await self.desk.mine_asked(interaction)

    @video.command(name="queue", description="Every video waiting or generating on this server")
    async def queue(self, interaction: discord.Interaction) -> None:
        await self.desk.queue_asked(interaction)

    @video.command(name="usage", description="What you and this server spent today and this month")
    async def usage(self, interaction: discord.Interaction) -> None:
        await self.desk.usage_asked(interaction)


def attach(
    group: app_commands.Group,
    subgroup: app_commands.Group | app_commands.Command[Any, ..., Any],
) -> None:
    """Add a subgroup or command to `/video` once (extensions may load in either order)."""
    if group.get_command(subgroup.name) is None:
        group.add_command(subgroup)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VideoCog(bot))
