"""Prompt sessions wired into the bot: the service on the tracker's clock and intake, what
members see of it, the gallery the notifier posts entries into, the desk the `/session`
commands and Vote buttons reach, and the hooks into the job desk, the status board and
the tracker's observers. `bot.app` builds one and starts and closes it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import discord

from bot.discord_ui.audit import AuditLog
from bot.discord_ui.job_desk import JobDesk
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.sessions.desk import SessionDesk
from bot.discord_ui.sessions.gallery import EntryNotes, EntryWatch, SessionGallery
from bot.discord_ui.sessions.herald import DiscordHerald
from bot.discord_ui.status_board import StatusBoard
from bot.jobs.leases import process_name
from bot.jobs.tracker import JobTracker
from bot.server_settings import ServerSettings
from bot.sessions.ports import SessionStorage
from bot.sessions.service import Sessions


class SessionSide:
    def __init__(
        self,
        client: discord.Client,
        storage: SessionStorage,
        tracker: JobTracker,
        outbox: ChannelOutbox,
        settings_for: Callable[[int | None], ServerSettings],
        *,
        shared: bool,
    ) -> None:
        """`shared`: other processes use the same database."""
        self._client = client
        self._outbox = outbox
        self._settings_for = settings_for
        self.sessions = Sessions(
            storage,
            clock=tracker.clock,
            intake=tracker.holding_intake,
            owner=process_name(),
            shared=shared,
        )
        self.herald = DiscordHerald(client, outbox, self.sessions, tracker, settings_for)
        self.gallery = SessionGallery(client, outbox, self.sessions)
        self.watch = EntryWatch(self.sessions)
        """A job observer: entries accepted, delivered or failed."""
        self._desk: SessionDesk | None = None

    @property
    def desk(self) -> SessionDesk:
        """The `/session` commands' and the Vote buttons' desk."""
        if self._desk is None:
            raise RuntimeError("the session desk is not open yet")
        return self._desk

    def open_desk(self, desk: JobDesk, board: StatusBoard, audit: AuditLog) -> SessionDesk:
        """The session desk; from now on videos made in a session's channel are entries,
        and their status cards say so."""
        session_desk = SessionDesk(
            self._client,
            self.sessions,
            self.herald,
            desk,
            outbox=self._outbox,
            audit=audit,
            settings_for=self._settings_for,
        )
        desk.entries = session_desk
        board.entry_note = EntryNotes(self.sessions)
        board.video_channel = session_desk.video_channel
        self._desk = session_desk
        return session_desk

    async def start(self, open_sessions: Iterable[int | None]) -> None:
        """Keep the deadlines, once the sessions of the open jobs are read."""
        await self.sessions.start(self.herald, known=open_sessions)

    async def close(self) -> None:
        """The deadlines stop (a recap under way is finished by the next start, or by
        another process); votes being counted are waited for with every other answer."""
        await self.sessions.close()
