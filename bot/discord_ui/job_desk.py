"""What members do to jobs, shared by the slash commands, the buttons and the queue menu:
start a job, cancel, re-roll, delete, and find the job a command is about.

Every handler acknowledges its interaction before it touches the store or RunComfy, so a
slow disk or a slow API never costs Discord's three seconds.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.discord_ui.audit import AuditLog
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.permissions import REFUSALS, Actor, JobAction, is_moderator, may
from bot.discord_ui.render import state_label
from bot.discord_ui.replies import reply
from bot.discord_ui.status_board import StatusBoard
from bot.i18n import Texts, english, texts
from bot.jobs.line import LimitExceeded
from bot.jobs.model import Job, JobOrigin, JobState
from bot.jobs.tracker import CancelOutcomeKind, CancelReport, JobTracker
from bot.jobs.usage import Quota
from bot.runcomfy.request import DEFAULT_SOUND, KlingRequest
from bot.server_settings import ServerSettings, listed
from bot.wording import limit_refusal, runcomfy_problem

log = logging.getLogger(__name__)

REFUSAL_LIST_MAX_CHARS = 1500
"""The allowed channels in a refusal: the whole reply stays within Discord's 2,000."""
NEEDED_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "attach_files")
"""Discord's permission flags; their names as Discord shows them are in the catalogs."""


def missing_permissions(
    permissions: discord.Permissions, *, in_thread: bool, tr: Texts | None = None
) -> list[str]:
    tr = tr or english()
    needed = [
        "send_messages_in_threads" if in_thread and flag == "send_messages" else flag
        for flag in NEEDED_PERMISSIONS
    ]
    return [tr(f"permission.{flag}") for flag in needed if not getattr(permissions, flag)]


def reader(interaction: discord.Interaction) -> Texts:
    """The language of private replies: the member's own Discord language."""
    return texts(interaction.locale)


class JobDesk:
    def __init__(
        self,
        client: discord.Client,
        tracker: JobTracker,
        *,
        settings_for: Callable[[int | None], ServerSettings],
        outbox: ChannelOutbox,
        board: StatusBoard,
        audit: AuditLog,
        now: Callable[[], float],
        reply_window: float,
    ) -> None:
        """`reply_window`: clock seconds a status reply is edited through its interaction
        token (Discord's tokens live 15 minutes; keep a margin)."""
        self._client = client
        self._reply_window = reply_window
        self.tracker = tracker
        self._settings_for = settings_for
        self._outbox = outbox
        self._board = board
        self._audit = audit
        self._now = now

    # ------------------------------------------------------------------ lookups

    def server(self, interaction: discord.Interaction) -> ServerSettings:
        return self._settings_for(interaction.guild_id)

    def moderates(self, interaction: discord.Interaction, job: Job) -> bool:
        """A moderator of the job's channel (not of the channel the member typed in)."""
        actor = Actor.in_channel(interaction, job.channel_id)
        return is_moderator(actor, self.server(interaction).moderator_role_ids)

    def allowed(self, interaction: discord.Interaction, action: JobAction, job: Job) -> bool:
        """The one rule for every entry point (button, command, menu, autocomplete): the
        member's permissions in the job's channel, plus the server's moderator roles."""
        return may(
            action,
            Actor.in_channel(interaction, job.channel_id),
            owner_id=job.requester_id,
            moderator_role_ids=self.server(interaction).moderator_role_ids,
        )

    def public_language(self, interaction: discord.Interaction) -> str:
        """The language of what the server reads (status, video, audit): the server's
        setting, else the language Discord has for the server."""
        chosen = self.server(interaction).language
        return texts(chosen or interaction.guild_locale).language

    def channel_refusal(self, interaction: discord.Interaction) -> str | None:
        """Why videos cannot be made here, or None when they can."""
        allowed = self.server(interaction).channel_ids
        channel = interaction.channel
        if not allowed or channel is None:
            return None
        parent_id = getattr(channel, "parent_id", None)
        if channel.id in allowed or parent_id in allowed:
            return None
        mentions = [f"<#{channel_id}>" for channel_id in sorted(allowed)]
        tr = reader(interaction)
        return tr("desk.wrong_channel", where=listed(mentions, REFUSAL_LIST_MAX_CHARS, tr))

    def sound_for(self, interaction: discord.Interaction, sound: bool | None) -> bool | None:
        """The member's choice, else the server's default when it differs from RunComfy's."""
        if sound is not None:
            return sound
        server_default = self.server(interaction).sound_default
        return server_default if server_default != DEFAULT_SOUND else None

    async def server_job(self, interaction: discord.Interaction, job_id: int) -> Job | str:
        """The job, if it belongs to this server; else what to tell the member."""
        job = await self.tracker.fetch(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            return reader(interaction)("desk.no_such_job", job=job_id)
        return job

    async def find_job(self, interaction: discord.Interaction, job_id: int | None) -> Job | str:
        """The job a command is about: the given one if the member may see it, else their latest."""
        if job_id is None:
            mine = await self.tracker.recent(
                requester_id=interaction.user.id, guild_id=interaction.guild_id, limit=1
            )
            return mine[0] if mine else reader(interaction)("desk.no_jobs_yet")
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            return job
        if not self.allowed(interaction, JobAction.VIEW, job):
            return reader(interaction)("desk.not_yours", job=job_id)
        return job

    def job_choices(
        self, interaction: discord.Interaction, current: str, *, cancellable: bool = False
    ) -> list[app_commands.Choice[int]]:
        """The member's unfinished jobs, and those of the channels they moderate."""
        action = JobAction.CANCEL if cancellable else JobAction.VIEW
        text = current.strip().lstrip("#").lower()
        jobs = [
            job
            for job in self.tracker.open_jobs(interaction.guild_id)
            if job.state is not JobState.NEW
            and (not cancellable or job.state.is_cancellable)
            and self.allowed(interaction, action, job)
            and (not text or str(job.id).startswith(text) or text in job.request.prompt.lower())
        ]
        tr = reader(interaction)
        return [job_choice(job, tr) for job in reversed(jobs[-25:])]

    # ------------------------------------------------------------- making videos

    async def start_job(
        self,
        interaction: discord.Interaction,
        request: KlingRequest,
        *,
        parent_id: int | None = None,
    ) -> None:
        """Check the channel, persist the job, and let its public reply be its status message.

        The reply is deferred publicly and then edited through the interaction's webhook,
        so a job costs its channel nothing but the video itself. Anything refused before
        the job exists is answered privately and leaves nothing public behind."""
        channel = interaction.channel
        refusal = self.channel_refusal(interaction)
        if refusal:
            await self.refuse(interaction, refusal)
            return
        tr = reader(interaction)
        missing = missing_permissions(
            interaction.app_permissions, in_thread=isinstance(channel, discord.Thread), tr=tr
        )
        if missing or channel is None:
            needed = ", ".join(missing) or tr("desk.access")
            await self.refuse(interaction, tr("desk.missing_permissions", needed=needed))
            return
        status_message_id = await self._defer_publicly(interaction)
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
            job = await self.tracker.create(
                request,
                origin,
                quota=quota,
                parent_id=parent_id,
                locale=self.public_language(interaction),
            )
        except LimitExceeded as error:
            refusal = tr("desk.refused", reason=limit_refusal(error, tr))
            await self.refuse(interaction, refusal)
            return
        self._board.adopt(job.id, interaction, usable_for=self._reply_window)
        try:
            await self.tracker.enqueue(job.id, status_message_id=status_message_id)
        except LimitExceeded as error:
            self._board.forget(job.id)
            await self.refuse(interaction, tr("desk.refused", reason=limit_refusal(error, tr)))

    @staticmethod
    async def _defer_publicly(interaction: discord.Interaction) -> int:
        """Acknowledge with a public "thinking…" reply (unless a caller already did); its
        message becomes the job's status message."""
        if not interaction.response.is_done():
            callback = await interaction.response.defer(thinking=True)
            if callback is not None and callback.message_id is not None:
                return callback.message_id
        return (await interaction.original_response()).id

    async def refuse(self, interaction: discord.Interaction, text: str, **extra: Any) -> None:
        """A private answer that leaves nothing public behind, even after a public defer:
        the public "thinking…" reply is deleted first (a first follow-up would inherit its
        visibility)."""
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True, **extra)
            return
        if await self._public_reply(interaction):
            with contextlib.suppress(discord.NotFound):
                await interaction.delete_original_response()
            await interaction.followup.send(text, ephemeral=True, **extra)
            return
        await reply(interaction, text, **extra)

    @staticmethod
    async def _public_reply(interaction: discord.Interaction) -> bool:
        try:
            original = await interaction.original_response()
        except discord.NotFound:
            return False
        return not original.flags.ephemeral

    # ------------------------------------------------------------------- actions

    async def cancel_pressed(self, interaction: discord.Interaction, job_id: int) -> None:
        """The Cancel button: acknowledged before the job is even looked up."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await self.cancel_job(interaction, job_id))

    async def cancel_job(self, interaction: discord.Interaction, job_id: int) -> str:
        """Cancel for the requester or a moderator; returns what to tell the member."""
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            return job
        tr = reader(interaction)
        if not self.allowed(interaction, JobAction.CANCEL, job):
            return tr(REFUSALS[JobAction.CANCEL])
        report = await self.tracker.cancel(job_id, by=interaction.user.id)
        if report.outcome is CancelOutcomeKind.CANCELLED and report.job is not None:
            await self._audit.record(interaction.user.id, "cancelled", report.job)
        return cancel_reply(job_id, report, tr)

    async def reroll_pressed(self, interaction: discord.Interaction, job_id: int) -> None:
        """Same parameters, a new job for whoever pressed it, counted on their quota."""
        refusal = self.channel_refusal(interaction)
        if refusal:
            await reply(interaction, refusal)
            return
        await interaction.response.defer(thinking=True)
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            await self.refuse(interaction, job)
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
            await reply(interaction, reader(interaction)(REFUSALS[JobAction.DELETE]))
            return
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):
                await interaction.message.delete()
        job = await self.tracker.annotate(
            job_id, deleted_by=interaction.user.id, deleted_at=self._now()
        )
        await self._audit.record(interaction.user.id, "deleted", job)
        await reply(interaction, reader(interaction)("desk.deleted", job=job_id))


def job_choice(job: Job, tr: Texts | None = None) -> app_commands.Choice[int]:
    """A job in autocomplete: number, state and prompt, within Discord's 100 characters."""
    tr = tr or english()
    prompt = " ".join(job.request.prompt.split())
    name = f"#{job.id} · {state_label(job.state, tr)} · {prompt}"[:100]
    return app_commands.Choice(name=name, value=job.id)


def cancel_problem(report: CancelReport, tr: Texts | None = None) -> str:
    """Why RunComfy could not be asked to cancel, without the final full stop."""
    tr = tr or english()
    if report.problem is None:
        return tr("cancel.not_confirmed")
    return runcomfy_problem(report.problem, tr).rstrip(".")


def cancel_reply(job_id: int, report: CancelReport, tr: Texts | None = None) -> str:
    tr = tr or english()
    match report.outcome:
        case CancelOutcomeKind.CANCELLED:
            return tr("cancel.cancelled", job=job_id)
        case CancelOutcomeKind.ALREADY_RUNNING:
            return tr("cancel.too_late", job=job_id)
        case CancelOutcomeKind.ALREADY_FINISHED:
            if report.job is None or not report.job.state.is_final:
                return tr("cancel.just_finished", job=job_id)
            state = state_label(report.job.state, tr).lower()
            return tr("cancel.already_final", job=job_id, state=state)
        case CancelOutcomeKind.NOT_FOUND:
            return tr("cancel.not_found", job=job_id)
        case CancelOutcomeKind.UNREACHABLE:
            return tr("cancel.unreachable", job=job_id, problem=cancel_problem(report, tr))
