"""What members do to jobs, shared by the slash commands, the buttons and the queue menu:
start a job, cancel, re-roll, delete, and answer status, mine, queue and usage. Every
command and button reaches the tracker through this desk; finding the job a command is
about is `JobLookup`'s.

Every handler acknowledges its interaction before it touches the store or RunComfy, so a
slow disk or a slow API never costs Discord's three seconds.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import discord

from bot.discord_ui.audit import AuditLog
from bot.discord_ui.edit_reroll import EditReroll
from bot.discord_ui.job_lookup import JobLookup, reader
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.panels import mine_embed, queue_order, usage_embed
from bot.discord_ui.permissions import REFUSALS, JobAction
from bot.discord_ui.policy_gate import PolicyGate
from bot.discord_ui.queue_view import QueueView
from bot.discord_ui.render import jump_url, state_label
from bot.discord_ui.replies import reply
from bot.discord_ui.status_board import StatusBoard
from bot.i18n import Texts, english
from bot.jobs.line import LimitExceeded
from bot.jobs.model import Failure, Job, JobOrigin, JobState
from bot.jobs.tracker import CancelOutcomeKind, CancelReport, JobTracker
from bot.jobs.usage import Quota, Usage, day_start, month_start
from bot.runcomfy.request import KlingRequest
from bot.server_settings import ServerSettings
from bot.wording import limit_refusal, runcomfy_problem

if TYPE_CHECKING:
    from bot.discord_ui.sessions.desk import EntryTicket

log = logging.getLogger(__name__)

MINE_LIMIT = 10
"""Jobs `/video mine` lists."""
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


class EntryDoor(Protocol):
    """Prompt sessions: whether a new video is an entry, an entry's video deleted, and
    where entries' videos are (their sessions' galleries)."""

    async def entry_for(self, interaction: discord.Interaction) -> EntryTicket | None: ...

    async def entry_deleted(self, job: Job, *, by: int) -> None: ...

    async def know(self, jobs: Iterable[Job]) -> None:
        """Read the sessions of these jobs, so `video_channel` can answer for them."""

    def video_channel(self, job: Job) -> int | None: ...


class JobDesk(JobLookup):
    """The one way from Discord to the jobs: every `/video` command and job button."""

    def __init__(
        self,
        client: discord.Client,
        tracker: JobTracker,
        *,
        settings_for: Callable[[int | None], ServerSettings],
        outbox: ChannelOutbox,
        board: StatusBoard,
        audit: AuditLog,
        gate: PolicyGate,
        now: Callable[[], float],
        reply_window: float,
    ) -> None:
        """`reply_window`: clock seconds a status reply is edited through its interaction
        token (Discord's tokens live 15 minutes; keep a margin). `gate` is the server's own
        policy, asked before anything is spent."""
        super().__init__(tracker, settings_for)
        self._gate = gate
        self._client = client
        self._reply_window = reply_window
        self._outbox = outbox
        self._board = board
        self._audit = audit
        self._now = now
        self._edit = EditReroll(self)
        self.entries: EntryDoor | None = None
        """Set once the sessions are wired: videos made in a session's channel are entries."""

    # -------------------------------------------------------------- job commands

    async def status_asked(self, interaction: discord.Interaction, job_id: int | None) -> None:
        """`/video status`: the job's status card, privately, with the way to its message."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.find_job(interaction, job_id)
        if isinstance(found, str):
            await reply(interaction, found)
            return
        tr = reader(interaction)
        if self.entries is not None:
            await self.entries.know([found])
        embed, _ = self._board.render(found, tr)
        link = ""
        if found.status_message_id is not None:
            url = jump_url(found.guild_id, found.channel_id, found.status_message_id)
            link = tr("desk.go_to_message", url=url)
        await reply(interaction, link, embed=embed)

    async def cancel_asked(self, interaction: discord.Interaction, job_id: int | None) -> None:
        """`/video cancel`: the given job, else the member's latest that can be cancelled."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if job_id is None:
            mine = [
                job
                for job in self.tracker.open_jobs(interaction.guild_id)
                if job.requester_id == interaction.user.id and job.state.is_cancellable
            ]
            if not mine:
                await reply(interaction, reader(interaction)("desk.nothing_to_cancel"))
                return
            job_id = mine[-1].id
        await reply(interaction, await self.cancel_job(interaction, job_id))

    async def mine_asked(self, interaction: discord.Interaction) -> None:
        """`/video mine`: the member's latest jobs on this server, those still on their
        way with the estimate their status message shows, and their videos from servers
        the bot was removed from (nowhere else shows them any more)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        stored = await self.tracker.recent(
            requester_id=interaction.user.id, guild_id=interaction.guild_id, limit=MINE_LIMIT
        )
        jobs = [self.tracker.get(job.id) or job for job in stored]
        left = await self._left_behind(interaction.user.id, interaction.guild_id)
        if self.entries is not None:
            await self.entries.know(jobs)
        embed = mine_embed(
            jobs,
            reader(interaction),
            eta_of=self._board.eta_of,
            now=self._now(),
            left_behind=left,
            where=self._board.video_channel,
        )
        await reply(interaction, "", embed=embed)

    async def _left_behind(self, requester_id: int, guild_id: int | None) -> list[Job]:
        finished = await self.tracker.recent(
            requester_id=requester_id, states=[JobState.DELIVERY_FAILED], limit=MINE_LIMIT
        )
        return [
            job
            for job in finished
            if job.failure is Failure.SERVER_LEFT and job.guild_id != guild_id
        ]

    async def queue_asked(self, interaction: discord.Interaction) -> None:
        """`/video queue`: the server's open jobs, read again on every page turn."""
        tracker, guild_id = self.tracker, interaction.guild_id
        view = QueueView(
            owner_id=interaction.user.id,
            load=lambda: queue_order(tracker.open_jobs(guild_id), tracker.place_in_line),
            place_in_line=tracker.place_in_line,
            now=self._now,
            cancel=self.cancel_job,
            may_cancel=lambda job: self.moderates(interaction, job),
            tr=reader(interaction),
        )
        await interaction.response.send_message(embed=view.embed(), view=view, ephemeral=True)

    async def usage_asked(self, interaction: discord.Interaction) -> None:
        """`/video usage`: what the member and the server spent today and this month."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self._now()
        today, month = day_start(now), month_start(now)
        server = await self.tracker.usage_records(since=month, guild_id=interaction.guild_id)
        mine = [record for record in server if record.requester_id == interaction.user.id]
        embed = usage_embed(
            mine_today=Usage.of(record for record in mine if record.created_at >= today),
            mine_month=Usage.of(mine),
            server_today=Usage.of(record for record in server if record.created_at >= today),
            server_month=Usage.of(server),
            settings=self.server(interaction),
            allowance=self._gate.allowance(interaction),
            tr=reader(interaction),
        )
        await reply(interaction, "", embed=embed)

    # ------------------------------------------------------------- making videos

    def sound_for(self, interaction: discord.Interaction, sound: bool | None) -> bool | None:
        """The member's choice, else none when their tier allows none, else the server's."""
        if sound is None and self._gate.sound_for(interaction) is False:
            return False
        return super().sound_for(interaction, sound)

    def duration_for(self, interaction: discord.Interaction, duration: int | None) -> int | None:
        """The member's choice, else their tier's longest when that is shorter than usual."""
        return duration if duration is not None else self._gate.duration_for(interaction)

    def form_refusal(self, interaction: discord.Interaction) -> str | None:
        """Why a member may not even fill in a form for a video here (the channel, a
        block), or None."""
        return self.channel_refusal(interaction) or self._gate.block_refusal(
            interaction, reader(interaction)
        )

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
        tr = reader(interaction)
        refusal = self.channel_refusal(interaction)
        if refusal:
            await self.refuse(interaction, refusal)
            return
        refused = self._gate.refusal(interaction, request, tr)
        if refused is not None:
            await self.refuse(interaction, refused.text)
            await self._gate.audit(interaction, request, refused)
            return
        missing = missing_permissions(
            interaction.app_permissions, in_thread=isinstance(channel, discord.Thread), tr=tr
        )
        if missing or channel is None:
            needed = ", ".join(missing) or tr("desk.access")
            await self.refuse(interaction, tr("desk.missing_permissions", needed=needed))
            return
        status_message_id = await self._defer_publicly(interaction)
        server = self.server(interaction)
        allowance = self._gate.allowance(interaction)
        origin = JobOrigin(
            requester_id=interaction.user.id,
            channel_id=channel.id,
            guild_id=interaction.guild_id,
            upload_limit=interaction.filesize_limit,
            active_limit=allowance.jobs_at_once if allowance.from_tiers else None,
        )
        quota = Quota(
            user_daily_seconds=allowance.daily_seconds,
            server_daily_budget=server.daily_budget_usd,
        )
        try:
            ticket = await self.entries.entry_for(interaction) if self.entries else None
            job = await self.tracker.create(
                request,
                origin,
                quota=quota,
                parent_id=parent_id,
                locale=self.public_language(interaction),
                session_id=ticket.session_id if ticket else None,
                check=ticket.check if ticket else None,
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
            return
        self._gate.reach.remember(interaction, job_id=job.id, usable_for=self._reply_window)

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
        refusal = self.form_refusal(interaction)
        if refusal:
            await reply(interaction, refusal)
            return
        await interaction.response.defer(thinking=True)
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            await self.refuse(interaction, job)
            return
        await self.start_job(interaction, job.request, parent_id=job.id)

    async def edit_pressed(self, interaction: discord.Interaction, job_id: int) -> None:
        """Edit & re-roll: the job's form, pre-filled; sending it starts a new job here."""
        await self._edit.pressed(interaction, job_id)

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
        if job.session_id is not None and self.entries is not None:
            await self.entries.entry_deleted(job, by=interaction.user.id)
        await self._audit.record(interaction.user.id, "deleted", job)
        await reply(interaction, reader(interaction)("desk.deleted", job=job_id))


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
