"""`/video` commands and the job buttons: the Discord face of the job tracker.

Every handler acknowledges its interaction before it touches the store or RunComfy,
so a slow disk or a slow API never costs Discord's three seconds.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_ui.audit import AuditLog
from bot.discord_ui.buttons import JobButton
from bot.discord_ui.multishot import EditShotsView, MultishotOptions, ShotsModal, multishot_request
from bot.discord_ui.notices import ChannelNotifier
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.panels import (
    jump_url,
    mine_embed,
    queue_order,
    settings_embed,
    usage_embed,
)
from bot.discord_ui.permissions import (
    REFUSALS,
    SETTINGS_REFUSAL,
    Actor,
    JobAction,
    is_moderator,
    may,
    may_change_settings,
)
from bot.discord_ui.queue_view import QueueView
from bot.discord_ui.status_board import StatusBoard
from bot.jobs.line import LimitExceeded
from bot.jobs.model import Job, JobOrigin, JobState
from bot.jobs.tracker import CancelOutcomeKind, CancelReport
from bot.jobs.usage import Quota, Usage, day_start, month_start
from bot.runcomfy.request import (
    DEFAULT_CFG_SCALE,
    DEFAULT_DURATION,
    DEFAULT_SOUND,
    DURATION_MAX,
    DURATION_MIN,
    NEGATIVE_PROMPT_MAX_CHARS,
    PROMPT_MAX_CHARS,
    KlingInputError,
    KlingRequest,
)
from bot.server_settings import (
    ServerSettings,
    Setting,
    SettingValueError,
    check_daily_budget,
    check_daily_seconds,
    check_max_active_per_server,
    check_max_active_per_user,
)
from bot.wording import limit_refusal, runcomfy_problem

if TYPE_CHECKING:
    from bot.app import VideoBot

log = logging.getLogger(__name__)

NOTHING_SPENT = "Nothing was sent or charged."
VIDEO_READY = frozenset({JobState.COMPLETED, JobState.DELIVERED, JobState.DELIVERY_FAILED})
NEEDED_PERMISSIONS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
}
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


def missing_permissions(permissions: discord.Permissions, *, in_thread: bool) -> list[str]:
    needed = dict(NEEDED_PERMISSIONS)
    if in_thread:
        needed["send_messages_in_threads"] = "Send Messages in Threads"
        del needed["send_messages"]
    return [label for flag, label in needed.items() if not getattr(permissions, flag)]


async def reply(interaction: discord.Interaction, text: str, **extra: Any) -> None:
    """A private answer, whether or not the interaction was already acknowledged."""
    if interaction.response.is_done():
        await interaction.edit_original_response(content=text, **extra)
    else:
        await interaction.response.send_message(text, ephemeral=True, **extra)


class VideoCog(commands.Cog, name="Video"):
    """Slash commands to make and manage videos, and the buttons on their messages."""

    video = app_commands.Group(
        name="video", description="Make short videos with Kling 3.0", guild_only=True
    )
    settings_group = app_commands.Group(
        name="settings", description="This server's video settings (Manage Server)", parent=video
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
        self.audit = AuditLog(bot, self.outbox, bot.server_settings.get, bot.clock.now)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(JobButton)
        self.bot.tracker.add_observer(self.board)
        self.bot.tracker.set_notifier(self.notifier)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(JobButton)
        await self.outbox.close()

    # ------------------------------------------------------------------ helpers

    def server(self, interaction: discord.Interaction) -> ServerSettings:
        return self.bot.server_settings.get(interaction.guild_id)

    def is_moderator(self, interaction: discord.Interaction) -> bool:
        roles = self.server(interaction).moderator_role_ids
        return is_moderator(Actor.from_interaction(interaction), roles)

    def allowed(self, interaction: discord.Interaction, action: JobAction, job: Job) -> bool:
        return may(
            action,
            Actor.from_interaction(interaction),
            owner_id=job.requester_id,
            moderator_role_ids=self.server(interaction).moderator_role_ids,
        )

    def channel_refusal(self, interaction: discord.Interaction) -> str | None:
        """Why videos cannot be made here, or None when they can."""
        allowed = self.server(interaction).channel_ids
        channel = interaction.channel
        if not allowed or channel is None:
            return None
        parent_id = getattr(channel, "parent_id", None)
        if channel.id in allowed or parent_id in allowed:
            return None
        where = ", ".join(f"<#{channel_id}>" for channel_id in sorted(allowed))
        return f"❌ Videos can be made in {where} on this server. {NOTHING_SPENT}"

    def sound_for(self, interaction: discord.Interaction, sound: bool | None) -> bool | None:
        """The member's choice, else the server's default when it differs from RunComfy's."""
        if sound is not None:
            return sound
        server_default = self.server(interaction).sound_default
        return server_default if server_default != DEFAULT_SOUND else None

    async def server_job(self, interaction: discord.Interaction, job_id: int) -> Job | str:
        """The job, if it belongs to this server; else what to tell the member."""
        job = await self.bot.tracker.fetch(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            return f"I can't find video #{job_id} on this server."
        return job

    async def find_job(self, interaction: discord.Interaction, job_id: int | None) -> Job | str:
        """The job a command is about: the given one if the member may see it, else their latest."""
        tracker = self.bot.tracker
        if job_id is None:
            mine = await tracker.recent(
                requester_id=interaction.user.id, guild_id=interaction.guild_id, limit=1
            )
            return mine[0] if mine else "You have not asked for any videos in this server yet."
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            return job
        if job.requester_id != interaction.user.id and not self.is_moderator(interaction):
            return f"Video #{job_id} is someone else's; only moderators can look at it here."
        return job

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
            request = KlingRequest(
                prompt=prompt,
                duration=duration,
                aspect_ratio=aspect_ratio.value if aspect_ratio is not None else None,
                negative_prompt=negative_prompt,
                cfg_scale=cfg_scale,
                sound=self.sound_for(interaction, sound),
            )
        except KlingInputError as error:
            await reply(interaction, f"❌ {error.user_message} {NOTHING_SPENT}")
            return
        await self.start_job(interaction, request)

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
        refusal = self.channel_refusal(interaction)
        if refusal:
            await reply(interaction, refusal)
            return
        options = MultishotOptions(
            prompt=prompt,
            aspect_ratio=aspect_ratio.value if aspect_ratio is not None else None,
            negative_prompt=negative_prompt,
            cfg_scale=cfg_scale,
            sound=self.sound_for(interaction, sound),
        )
        await interaction.response.send_modal(ShotsModal(options, self.submit_shots))

    async def submit_shots(
        self, interaction: discord.Interaction, options: MultishotOptions, values: list[str]
    ) -> None:
        try:
            request = multishot_request(options, values)
        except KlingInputError as error:
            view = EditShotsView(options, values, self.submit_shots, interaction.user.id)
            await reply(
                interaction,
                f"❌ {error.user_message} {NOTHING_SPENT} Press **Edit shots** to fix it.",
                view=view,
            )
            return
        await self.start_job(interaction, request)

    async def start_job(
        self,
        interaction: discord.Interaction,
        request: KlingRequest,
        *,
        parent_id: int | None = None,
    ) -> None:
        """Check the channel, persist the job, post its status message, then let it run."""
        channel = interaction.channel
        refusal = self.channel_refusal(interaction)
        if refusal:
            await reply(interaction, refusal)
            return
        missing = missing_permissions(
            interaction.app_permissions, in_thread=isinstance(channel, discord.Thread)
        )
        if missing or channel is None:
            await reply(
                interaction,
                "❌ I can't post videos in this channel: I need "
                f"{', '.join(missing) or 'access to it'} here. Ask a moderator to grant "
                f"that, or use another channel. {NOTHING_SPENT}",
            )
            return
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        tracker = self.bot.tracker
        server = self.server(interaction)
        origin = JobOrigin(
            requester_id=interaction.user.id,
            channel_id=channel.id,
            guild_id=interaction.guild_id,
            upload_limit=interaction.filesize_limit,
        )
        quota = Quota(
            user_daily_seconds=server.daily_seconds_per_user,
            server_daily_budget=server.daily_budget_usd,
        )
        try:
            job = await tracker.create(request, origin, quota=quota, parent_id=parent_id)
        except LimitExceeded as error:
            await reply(interaction, f"⏳ {limit_refusal(error)} {NOTHING_SPENT}")
            return
        job = await tracker.enqueue(job.id)
        await reply(
            interaction,
            f"🎬 Video **#{job.id}** is in line. Its status message appears in this channel, "
            "and I'll mention you here when the video is ready.",
        )
        try:
            message = await self.post_status(channel, job)
        except discord.HTTPException as error:
            log.warning("job %d: could not post its status message: %s", job.id, error)
            report = await tracker.cancel(job.id, by=self.bot.user.id if self.bot.user else 0)
            if report.outcome is CancelOutcomeKind.CANCELLED:
                text = f"❌ I couldn't post in this channel, so I cancelled it. {NOTHING_SPENT}"
            else:
                text = (
                    "⚠️ I couldn't post the video's status in this channel. It was already "
                    "sent to RunComfy, so I'll still post the video here when it's ready."
                )
            await reply(interaction, text)
            return
        if message is not None:
            await tracker.annotate(job.id, status_message_id=message.id)

    async def post_status(self, channel: Any, job: Job) -> discord.Message | None:
        """The job's status message, through the channel's outbox.

        The job is already in line: a busy channel's pacing must never hold back its
        submission, so the message shows whatever state the job has reached by then, and
        is not posted at all if the video itself is already on its way."""

        async def post() -> discord.Message | None:
            current = await self.bot.tracker.fetch(job.id) or job
            if current.state in VIDEO_READY:
                return None
            embed, view = self.board.render(current)
            message = await channel.send(
                embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none()
            )
            self.board.shown(current, embed, view)
            return message

        return await self.outbox.send(channel.id, post)

    # -------------------------------------------------------------- job commands

    @video.command(name="status", description="Where one of your videos is")
    @app_commands.describe(job="Which video (default: your latest)")
    async def status(self, interaction: discord.Interaction, job: int | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.find_job(interaction, job)
        if isinstance(found, str):
            await reply(interaction, found)
            return
        embed, _ = self.board.render(found)
        link = ""
        if found.status_message_id is not None:
            url = jump_url(found.guild_id, found.channel_id, found.status_message_id)
            link = f"[Go to its message]({url})"
        await reply(interaction, link, embed=embed)

    @video.command(name="cancel", description="Cancel a video that has not started generating")
    @app_commands.describe(job="Which video (default: your latest one that can be cancelled)")
    async def cancel(self, interaction: discord.Interaction, job: int | None = None) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if job is None:
            mine = [
                candidate
                for candidate in self.bot.tracker.open_jobs(interaction.guild_id)
                if candidate.requester_id == interaction.user.id and candidate.state.is_cancellable
            ]
            if not mine:
                await reply(interaction, "You have no videos waiting that could be cancelled.")
                return
            job = mine[-1].id
        await reply(interaction, await self.cancel_job(interaction, job))

    @status.autocomplete("job")
    async def status_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return self.job_choices(interaction, current)

    @cancel.autocomplete("job")
    async def cancel_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return self.job_choices(interaction, current, cancellable=True)

    def job_choices(
        self, interaction: discord.Interaction, current: str, *, cancellable: bool = False
    ) -> list[app_commands.Choice[int]]:
        """The member's unfinished jobs; a moderator sees every unfinished job of the server."""
        everyone = self.is_moderator(interaction)
        text = current.strip().lstrip("#").lower()
        jobs = [
            job
            for job in self.bot.tracker.open_jobs(interaction.guild_id)
            if job.state is not JobState.NEW
            and (everyone or job.requester_id == interaction.user.id)
            and (not cancellable or job.state.is_cancellable)
            and (not text or str(job.id).startswith(text) or text in job.request.prompt.lower())
        ]
        return [
            app_commands.Choice(
                name=f"#{job.id} · {job.state.label} · {' '.join(job.request.prompt.split())}"[
                    :100
                ],
                value=job.id,
            )
            for job in reversed(jobs[-25:])
        ]

    @video.command(name="mine", description="Your recent videos and where to find them")
    async def mine(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        jobs = await self.bot.tracker.recent(
            requester_id=interaction.user.id, guild_id=interaction.guild_id, limit=10
        )
        await reply(interaction, "", embed=mine_embed(jobs))

    @video.command(name="queue", description="Every video waiting or generating on this server")
    async def queue(self, interaction: discord.Interaction) -> None:
        tracker = self.bot.tracker
        guild_id = interaction.guild_id
        view = QueueView(
            owner_id=interaction.user.id,
            load=lambda: queue_order(tracker.open_jobs(guild_id), tracker.place_in_line),
            place_in_line=tracker.place_in_line,
            now=self.bot.clock.now,
            cancel=self.cancel_job if self.is_moderator(interaction) else None,
        )
        await interaction.response.send_message(embed=view.embed(), view=view, ephemeral=True)

    @video.command(name="usage", description="What you and this server spent today and this month")
    async def usage(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.clock.now()
        today, month = day_start(now), month_start(now)
        server = await self.bot.tracker.usage_records(since=month, guild_id=interaction.guild_id)
        mine = [record for record in server if record.requester_id == interaction.user.id]
        embed = usage_embed(
            mine_today=Usage.of(record for record in mine if record.created_at >= today),
            mine_month=Usage.of(mine),
            server_today=Usage.of(record for record in server if record.created_at >= today),
            server_month=Usage.of(server),
            settings=self.server(interaction),
        )
        await reply(interaction, "", embed=embed)

    # ------------------------------------------------------------------- buttons

    async def cancel_pressed(self, interaction: discord.Interaction, job_id: int) -> None:
        """The Cancel button: acknowledged before the job is even looked up."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await self.cancel_job(interaction, job_id))

    async def cancel_job(self, interaction: discord.Interaction, job_id: int) -> str:
        """Cancel for the requester or a moderator; returns what to tell the member."""
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            return job
        if not self.allowed(interaction, JobAction.CANCEL, job):
            return REFUSALS[JobAction.CANCEL]
        report = await self.bot.tracker.cancel(job_id, by=interaction.user.id)
        if report.outcome is CancelOutcomeKind.CANCELLED and report.job is not None:
            await self.audit.record(interaction.user.id, "cancelled", report.job)
        return cancel_reply(job_id, report)

    async def reroll_pressed(self, interaction: discord.Interaction, job_id: int) -> None:
        """Same parameters, a new job for whoever pressed it, counted on their quota."""
        refusal = self.channel_refusal(interaction)
        if refusal:
            await reply(interaction, refusal)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            await reply(interaction, job)
            return
        await self.start_job(interaction, job.request, parent_id=job.id)

    async def delete_pressed(self, interaction: discord.Interaction, job_id: int) -> None:
        """Removes the posted video, for its requester or a moderator."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            await reply(interaction, job)
            return
        if not self.allowed(interaction, JobAction.DELETE, job):
            await reply(interaction, REFUSALS[JobAction.DELETE])
            return
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):
                await interaction.message.delete()
        deleted = {"deleted_by": interaction.user.id, "deleted_at": self.bot.clock.now()}
        extra = {**job.extra, **deleted}
        job = await self.bot.tracker.annotate(job_id, extra=extra)
        await self.audit.record(interaction.user.id, "deleted", job)
        await reply(interaction, f"🗑️ Video #{job_id} is deleted.")

    # ------------------------------------------------------------------ settings

    async def change_settings(
        self,
        interaction: discord.Interaction,
        change: Callable[[int, int], Coroutine[Any, Any, ServerSettings | str]],
    ) -> None:
        """Only for Manage Server; answers with the whole settings view, or why not."""
        if not may_change_settings(Actor.from_interaction(interaction)):
            await reply(interaction, SETTINGS_REFUSAL)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        try:
            outcome = await change(interaction.guild_id, interaction.user.id)
        except SettingValueError as error:
            await reply(interaction, f"❌ {error} Nothing was changed.")
            return
        if isinstance(outcome, str):
            await reply(interaction, outcome)
            return
        await reply(interaction, "✅ Saved.", embed=settings_embed(outcome))

    @settings_group.command(name="show", description="Every setting and where it comes from")
    async def settings_show(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            embed=settings_embed(self.server(interaction)), ephemeral=True
        )

    @settings_group.command(name="limits", description="How many videos may run at once")
    @app_commands.describe(
        per_member="Videos one member may have running at once (1–50)",
        per_server="Videos this server may have running at once (1–1,000)",
    )
    async def settings_limits(
        self,
        interaction: discord.Interaction,
        per_member: int | None = None,
        per_server: int | None = None,
    ) -> None:
        registry = self.bot.server_settings

        async def change(guild_id: int, by: int) -> ServerSettings | str:
            if per_member is None and per_server is None:
                return "Give `per_member`, `per_server` or both."
            updated = registry.get(guild_id)
            if per_member is not None:
                value = check_max_active_per_user(per_member)
                updated = await registry.set(guild_id, Setting.MAX_ACTIVE_PER_USER, value, by=by)
            if per_server is not None:
                value = check_max_active_per_server(per_server)
                updated = await registry.set(guild_id, Setting.MAX_ACTIVE_PER_SERVER, value, by=by)
            return updated

        await self.change_settings(interaction, change)

    @settings_group.command(name="quota", description="Daily limits on seconds and dollars")
    @app_commands.describe(
        seconds_per_member="Seconds of video one member may make per day; 0 = no quota",
        budget_usd="Dollars this server may spend per day; 0 = no budget",
    )
    async def settings_quota(
        self,
        interaction: discord.Interaction,
        seconds_per_member: int | None = None,
        budget_usd: float | None = None,
    ) -> None:
        registry = self.bot.server_settings

        async def change(guild_id: int, by: int) -> ServerSettings | str:
            if seconds_per_member is None and budget_usd is None:
                return "Give `seconds_per_member`, `budget_usd` or both."
            updated = registry.get(guild_id)
            if seconds_per_member is not None:
                seconds = check_daily_seconds(seconds_per_member)
                updated = await registry.set(
                    guild_id, Setting.DAILY_SECONDS_PER_USER, seconds, by=by
                )
            if budget_usd is not None:
                budget = check_daily_budget(Decimal(str(budget_usd)))
                updated = await registry.set(guild_id, Setting.DAILY_BUDGET_USD, budget, by=by)
            return updated

        await self.change_settings(interaction, change)

    @settings_group.command(name="sound", description="Whether videos get sound unless asked")
    @app_commands.describe(on="On: sound unless a member turns it off (sound costs more)")
    async def settings_sound(self, interaction: discord.Interaction, on: bool) -> None:
        registry = self.bot.server_settings

        async def change(guild_id: int, by: int) -> ServerSettings | str:
            return await registry.set(guild_id, Setting.SOUND_DEFAULT, on, by=by)

        await self.change_settings(interaction, change)

    @settings_group.command(name="moderators", description="Roles that may cancel and delete")
    @app_commands.describe(action="Add or remove the role", role="The role")
    @app_commands.choices(
        action=[
            app_commands.Choice(name="add", value="add"),
            app_commands.Choice(name="remove", value="remove"),
        ]
    )
    async def settings_moderators(
        self, interaction: discord.Interaction, action: app_commands.Choice[str], role: discord.Role
    ) -> None:
        registry = self.bot.server_settings

        async def change(guild_id: int, by: int) -> ServerSettings | str:
            roles = set(registry.get(guild_id).moderator_role_ids)
            if action.value == "add":
                roles.add(role.id)
            else:
                roles.discard(role.id)
            return await registry.set(guild_id, Setting.MODERATOR_ROLES, frozenset(roles), by=by)

        await self.change_settings(interaction, change)

    @settings_group.command(name="channels", description="Channels where videos may be made")
    @app_commands.describe(
        action="Add or remove the channel (no channels = every channel)", channel="The channel"
    )
    @app_commands.choices(
        action=[
            app_commands.Choice(name="add", value="add"),
            app_commands.Choice(name="remove", value="remove"),
        ]
    )
    async def settings_channels(
        self,
        interaction: discord.Interaction,
        action: app_commands.Choice[str],
        channel: discord.TextChannel,
    ) -> None:
        registry = self.bot.server_settings

        async def change(guild_id: int, by: int) -> ServerSettings | str:
            channels = set(registry.get(guild_id).channel_ids)
            if action.value == "add":
                channels.add(channel.id)
            else:
                channels.discard(channel.id)
            return await registry.set(guild_id, Setting.CHANNELS, frozenset(channels), by=by)

        await self.change_settings(interaction, change)

    @settings_group.command(name="audit", description="Where moderators' actions are logged")
    @app_commands.describe(channel="The audit channel; leave out to stop logging")
    async def settings_audit(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        registry = self.bot.server_settings

        async def change(guild_id: int, by: int) -> ServerSettings | str:
            value = channel.id if channel is not None else None
            return await registry.set(guild_id, Setting.AUDIT_CHANNEL, value, by=by)

        await self.change_settings(interaction, change)

    @settings_group.command(name="reset", description="Go back to the bot's default")
    @app_commands.describe(setting="Which setting (or all of them)")
    @app_commands.choices(
        setting=[
            app_commands.Choice(name=name, value=value)
            for name, value in (
                ("all", "all"),
                ("moderator roles", Setting.MODERATOR_ROLES.value),
                ("channels", Setting.CHANNELS.value),
                ("videos per member at once", Setting.MAX_ACTIVE_PER_USER.value),
                ("videos per server at once", Setting.MAX_ACTIVE_PER_SERVER.value),
                ("daily quota per member", Setting.DAILY_SECONDS_PER_USER.value),
                ("daily budget", Setting.DAILY_BUDGET_USD.value),
                ("sound", Setting.SOUND_DEFAULT.value),
                ("audit channel", Setting.AUDIT_CHANNEL.value),
            )
        ]
    )
    async def settings_reset(
        self, interaction: discord.Interaction, setting: app_commands.Choice[str]
    ) -> None:
        registry = self.bot.server_settings

        async def change(guild_id: int, by: int) -> ServerSettings | str:
            chosen = list(Setting) if setting.value == "all" else [Setting(setting.value)]
            return await registry.reset(guild_id, chosen)

        await self.change_settings(interaction, change)


def cancel_problem(report: CancelReport) -> str:
    """Why RunComfy could not be asked to cancel, without the final full stop."""
    if report.problem is None:
        return "RunComfy did not confirm the cancel"
    return runcomfy_problem(report.problem).rstrip(".")


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
                f"({cancel_problem(report)}). "
                "It is still queued; try again in a moment."
            )


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(VideoCog(bot))
