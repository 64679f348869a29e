"""The `/session` commands and the Vote buttons reach the sessions through this desk, as
`/video` reaches the jobs through the job desk: start, end, cancel, status, leaderboard,
and a moderator's removal of an entry; and the job desk asks it whether a new video is
an entry (`entry_for`).

Every refusal is a private, plain sentence in the member's language; every start, end,
cancel and removal goes to the audit channel in the server's.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import discord

from bot.discord_ui.audit import AuditLog
from bot.discord_ui.job_lookup import JobLookup, reader
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.permissions import Actor, may_host, may_run_session
from bot.discord_ui.replies import reply
from bot.discord_ui.sessions.ballot import Ballot
from bot.discord_ui.sessions.cards import (
    LEADERBOARD_SIZE,
    leaderboard_embed,
    status_embed,
    theme_text,
    thread_name,
)
from bot.discord_ui.sessions.herald import DiscordHerald
from bot.i18n import Texts
from bot.jobs.intake import CallerCheck
from bot.jobs.line import STORE_REFUSING, NotTakingJobs
from bot.jobs.model import Job
from bot.jobs.ports import StoreError
from bot.server_settings import ServerSettings
from bot.sessions.model import Session, SessionDraft
from bot.sessions.rules import check_draft
from bot.sessions.service import Sessions

log = logging.getLogger(__name__)

GALLERY_ARCHIVE_MINUTES: Literal[10080] = 10080
"""A week: a gallery stays open through any session (a post would reopen it anyway)."""
GALLERY_PERMISSIONS = (
    "view_channel",
    "send_messages",
    "embed_links",
    "attach_files",
    "read_message_history",
    "create_public_threads",
    "send_messages_in_threads",
)
"""What the bot needs in a session's channel: the card, its thread, the videos in it, and
reading back what it posted (a recap after a crash)."""


@dataclass(frozen=True, slots=True)
class EntryTicket:
    """A new video is an entry of this session, on this rule."""

    session_id: int
    check: CallerCheck


@dataclass(frozen=True, slots=True)
class StartOptions:
    theme: str
    minutes: int
    vote_minutes: int
    entries_per_member: int
    budget: float | None


class SessionDesk:
    def __init__(
        self,
        client: discord.Client,
        sessions: Sessions,
        herald: DiscordHerald,
        lookup: JobLookup,
        *,
        outbox: ChannelOutbox,
        audit: AuditLog,
        settings_for: Callable[[int | None], ServerSettings],
    ) -> None:
        """`lookup` reads the server's rules and finds jobs (as the job desk does)."""
        self._client = client
        self._sessions = sessions
        self._herald = herald
        self._lookup = lookup
        self._outbox = outbox
        self._audit = audit
        self.ballot = Ballot(sessions, herald, settings_for)

    # --------------------------------------------------------------- entries

    async def entry_for(self, interaction: discord.Interaction) -> EntryTicket | None:
        """Whether a video made here is an entry: the channel's open session, or the open
        session whose gallery this is."""
        if interaction.channel_id is None:
            return None
        try:
            session = await self._sessions.open_in(interaction.channel_id)
        except StoreError as error:
            raise NotTakingJobs(STORE_REFUSING) from error
        if session is None:
            return None
        return EntryTicket(session.id, self._sessions.admission(session.id, interaction.user.id))

    async def entry_deleted(self, job: Job, *, by: int) -> None:
        """An entry's video was deleted with its Delete button: it leaves the session too
        (its votes go back), while the session takes votes."""
        try:
            removed = await self._sessions.remove_entry(job.id, by=by)
        except StoreError as error:
            log.warning("entry %d: deleted, but still in its session (%s)", job.id, error)
            return
        session = self._sessions.known(job.session_id or 0)
        if removed and session is not None:
            self._herald.session_changed(session)

    async def know(self, jobs: Iterable[Job]) -> None:
        """Read the sessions of these jobs (those this process has not seen yet)."""
        try:
            await self._sessions.prime(job.session_id for job in jobs if job.session_id)
        except StoreError as error:
            log.info("could not read the sessions of some entries (%s)", error)

    def video_channel(self, job: Job) -> int | None:
        """The gallery an entry's video was posted in, as far as this process knows."""
        session = None if job.session_id is None else self._sessions.known(job.session_id)
        return None if session is None else session.thread_id

    async def vote_pressed(self, interaction: discord.Interaction, entry_id: int) -> None:
        await self.ballot.pressed(interaction, entry_id)

    # ----------------------------------------------------------------- start

    def _start_refusal(self, interaction: discord.Interaction, options: StartOptions) -> str | None:
        tr = reader(interaction)
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel) or interaction.guild_id is None:
            return tr("session.refused.not_here")
        server = self._lookup.server(interaction)
        host = may_host(
            Actor.from_interaction(interaction),
            moderator_role_ids=server.moderator_role_ids,
            host_role_ids=server.session_host_role_ids,
        )
        if not host:
            return tr("session.refused.not_host")
        wrong_channel = self._lookup.channel_refusal(interaction)
        if wrong_channel:
            return wrong_channel
        missing = [
            tr(f"permission.{flag}")
            for flag in GALLERY_PERMISSIONS
            if not getattr(interaction.app_permissions, flag)
        ]
        if missing:
            return tr("session.refused.permissions", needed=", ".join(missing))
        problem = check_draft(self._draft(interaction, options))
        return tr(f"session.refused.{problem}") if problem is not None else None

    def _draft(self, interaction: discord.Interaction, options: StartOptions) -> SessionDraft:
        budget: Decimal | None = None
        if options.budget is not None:
            try:
                budget = Decimal(str(options.budget)).quantize(Decimal("0.01"))
            except InvalidOperation:
                budget = Decimal("NaN")
        return SessionDraft(
            guild_id=interaction.guild_id or 0,
            channel_id=interaction.channel_id or 0,
            host_id=interaction.user.id,
            theme=options.theme.strip(),
            minutes=options.minutes,
            vote_minutes=options.vote_minutes,
            entries_per_member=options.entries_per_member,
            budget=budget,
            locale=self._lookup.public_language(interaction),
        )

    async def start_asked(self, interaction: discord.Interaction, options: StartOptions) -> None:
        """`/session start`: the card in the channel, its thread as the gallery."""
        tr = reader(interaction)
        refusal = self._start_refusal(interaction, options)
        if refusal is not None:
            await reply(interaction, refusal)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            session = await self._sessions.begin(self._draft(interaction, options))
        except StoreError:
            await reply(interaction, tr("session.refused.store"))
            return
        if session is None:
            await reply(interaction, tr("session.refused.already_open"))
            return
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        try:
            opened = await self._open_gallery(channel, session)
        except discord.HTTPException as error:
            log.warning("session %d: its card or thread could not be made (%s)", session.id, error)
            await self._sessions.abandon(session)
            await reply(interaction, tr("session.refused.discord"))
            return
        await self._audit_line(interaction, "audit.session_started", opened)
        await reply(interaction, tr("session.started", thread=f"<#{opened.thread_id}>"))

    async def _open_gallery(self, channel: discord.TextChannel, session: Session) -> Session:
        view, _ = await self._herald.card(session)

        async def post() -> discord.Message:
            return await channel.send(view=view, allowed_mentions=discord.AllowedMentions.none())

        card = await self._outbox.send(channel.id, post)
        try:
            thread = await card.create_thread(
                name=thread_name(session.theme), auto_archive_duration=GALLERY_ARCHIVE_MINUTES
            )
        except discord.HTTPException:
            with contextlib.suppress(discord.HTTPException):
                await card.delete()
            raise
        opened = await self._sessions.gallery_opened(session, card=card.id, thread=thread.id)
        self._herald.session_changed(opened)
        return opened

    # ------------------------------------------------------- end and cancel

    def _may_run(self, interaction: discord.Interaction, session: Session) -> bool:
        return may_run_session(
            Actor.in_channel(interaction, session.channel_id),
            host_id=session.host_id,
            moderator_role_ids=self._lookup.server(interaction).moderator_role_ids,
        )

    async def _session_here(
        self, interaction: discord.Interaction, *, open_only: bool
    ) -> Session | str:
        """The session of this channel or thread, else what to tell the member."""
        tr = reader(interaction)
        channel_id = interaction.channel_id or 0
        try:
            if open_only:
                session = await self._sessions.open_in(channel_id)
            else:
                session = await self._sessions.latest_in(channel_id)
        except StoreError:
            return tr("session.refused.store")
        if session is None:
            return tr("session.none_open" if open_only else "session.none_here")
        if not self._may_run(interaction, session):
            return tr("session.refused.not_yours")
        return session

    async def end_asked(self, interaction: discord.Interaction) -> None:
        """`/session end`: entries close now; voting runs on."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = reader(interaction)
        found = await self._session_here(interaction, open_only=True)
        if isinstance(found, str):
            await reply(interaction, found)
            return
        try:
            ended = await self._sessions.end(found.id, by=interaction.user.id)
        except StoreError:
            await reply(interaction, tr("session.refused.store"))
            return
        if ended is None:
            await reply(interaction, tr("session.none_open"))
            return
        await self._audit_line(interaction, "audit.session_ended", ended)
        await reply(interaction, tr("session.ended", minutes=ended.vote_minutes))

    async def cancel_asked(self, interaction: discord.Interaction) -> None:
        """`/session cancel`: the session ends without a recap; accepted videos still come."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = reader(interaction)
        found = await self._session_here(interaction, open_only=False)
        if isinstance(found, str):
            await reply(interaction, found)
            return
        try:
            cancelled = await self._sessions.cancel(found.id, by=interaction.user.id)
        except StoreError:
            await reply(interaction, tr("session.refused.store"))
            return
        if cancelled is None:
            await reply(interaction, tr("session.none_here"))
            return
        await self._audit_line(interaction, "audit.session_cancelled", cancelled)
        await reply(interaction, tr("session.cancelled"))

    # ------------------------------------------------------- status, results

    async def status_asked(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = reader(interaction)
        try:
            session = await self._sessions.latest_in(interaction.channel_id or 0)
            if session is None:
                await reply(interaction, tr("session.none_here"))
                return
            jobs = await self._sessions.store.entry_jobs(session.id)
            used = await self._sessions.store.votes_of(session.id, interaction.user.id)
        except StoreError:
            await reply(interaction, tr("session.refused.store"))
            return
        mine = sum(1 for job in jobs if job.counts and job.requester_id == interaction.user.id)
        embed = status_embed(
            session,
            await self._sessions.stats(session.id),
            mine=mine,
            votes_used=used,
            votes_per_member=self._lookup.server(interaction).votes_per_member,
            tr=tr,
        )
        await reply(interaction, "", embed=embed)

    async def leaderboard_asked(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = reader(interaction)
        try:
            rows = await self._sessions.leaderboard(interaction.guild_id or 0, LEADERBOARD_SIZE)
        except StoreError:
            await reply(interaction, tr("session.refused.store"))
            return
        await reply(interaction, "", embed=leaderboard_embed(rows, tr))

    async def remove_asked(self, interaction: discord.Interaction, entry_id: int) -> None:
        """A moderator (or the host) takes an entry out: its video, votes and place."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = reader(interaction)
        try:
            entry = await self._sessions.store.entry(entry_id)
            session = None if entry is None else await self._sessions.get(entry.session_id)
        except StoreError:
            await reply(interaction, tr("session.refused.store"))
            return
        if entry is None or session is None or session.guild_id != interaction.guild_id:
            await reply(interaction, tr("session.no_such_entry", entry=entry_id))
            return
        if not self._may_run(interaction, session):
            await reply(interaction, tr("session.refused.not_yours"))
            return
        if not await self._sessions.remove_entry(entry_id, by=interaction.user.id):
            await reply(interaction, tr("session.cannot_remove", entry=entry_id))
            return
        job = await self._lookup.tracker.annotate(
            entry_id, deleted_by=interaction.user.id, deleted_at=self._sessions.clock.now()
        )
        if job.notice_message_id is not None and session.thread_id is not None:
            gallery = self._client.get_partial_messageable(session.thread_id)
            with contextlib.suppress(discord.HTTPException):
                await gallery.get_partial_message(job.notice_message_id).delete()
        self._herald.session_changed(session)
        await self._audit_line(
            interaction, "audit.entry_removed", session, job=entry_id, requester=job.requester_id
        )
        await reply(interaction, tr("session.removed", entry=entry_id))

    # ---------------------------------------------------------------- audit

    async def _audit_line(
        self,
        interaction: discord.Interaction,
        key: str,
        session: Session,
        *,
        job: int = 0,
        requester: int = 0,
    ) -> None:
        """Start, end, cancel and removal, in the server's language, whoever did them."""
        tr: Texts = self._audit.texts_for(session.guild_id)
        line = tr(
            key,
            actor=f"<@{interaction.user.id}>",
            theme=theme_text(session.theme),
            channel=f"<#{session.channel_id}>",
            when=f"<t:{int(self._sessions.clock.now())}:f>",
            job=job,
            requester=f"<@{requester}>",
        )
        await self._audit.note(session.guild_id, line)
