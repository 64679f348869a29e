"""Entries into the gallery: a session entry's finished video is posted in the session's
thread (its own channel, with its own share of Discord's per-channel limit), as the entry
message with its Vote button, instead of in the channel the member typed in.

What the message shows of the video is kept with the entry before it is posted, so it
can be drawn again with a new count; the post carries the job's nonce, and after a crash
the thread is searched for it, as the channel is for any video. A thread that is gone
or refuses the bot leaves the video to the channel, where any video goes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import discord

from bot.discord_ui.card_text import Shown, notice_marker
from bot.discord_ui.notices import message_text, notice_nonce
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.render import public_texts, requester_only
from bot.discord_ui.result_card import video_filename
from bot.discord_ui.sessions.cards import theme_text
from bot.discord_ui.sessions.entry_card import encode_shown, entry_card
from bot.i18n import Texts
from bot.jobs.model import Job
from bot.jobs.ports import NoticeError, NoticeProblem, StoreError
from bot.sessions.model import Entry, Session, SessionState
from bot.sessions.service import Sessions

log = logging.getLogger(__name__)

HISTORY_SEARCH_LIMIT = 100
THEME_IN_NOTE_CHARS = 200


class SessionGallery:
    """The notifier's way into the gallery (`bot.discord_ui.notices.Gallery`)."""

    def __init__(self, client: discord.Client, outbox: ChannelOutbox, sessions: Sessions) -> None:
        self._client = client
        self._outbox = outbox
        self._sessions = sessions

    async def _session(self, job: Job) -> Session | None:
        if job.session_id is None:
            return None
        try:
            return await self._sessions.get(job.session_id)
        except StoreError as error:
            raise NoticeError(NoticeProblem.UNEXPECTED, "database", retryable=True) from error

    async def deliver(self, job: Job, shown: Shown, *, file: Path | None) -> int | None:
        """Post an entry's video in its session's gallery; None when it is no entry or its
        gallery cannot take it (the caller posts it as any other video)."""
        session = await self._session(job)
        if session is None or session.thread_id is None:
            return None
        counted = session.state in (SessionState.OPEN, SessionState.VOTING)
        if counted:
            entry = Entry(job.id, session.id, job.requester_id, encode_shown(shown), job.updated_at)
            try:
                await self._sessions.entry_posted(entry)
            except StoreError as error:
                raise NoticeError(NoticeProblem.UNEXPECTED, "database", retryable=True) from error
        card = entry_card(
            job, shown, theme=session.theme, votes=0, open=counted, tr=public_texts(job)
        )
        thread = self._client.get_partial_messageable(session.thread_id, guild_id=job.guild_id)

        async def send() -> int:
            attachment = None
            if file is not None:
                attachment = discord.File(file, filename=video_filename(job))
            extra: dict[str, Any] = {} if attachment is None else {"file": attachment}
            try:
                posted = await thread.send(
                    view=card,
                    allowed_mentions=requester_only(job),
                    nonce=notice_nonce(job),
                    **extra,
                )
            finally:
                if attachment is not None:
                    attachment.close()
            return posted.id

        try:
            message_id = await self._outbox.send(session.thread_id, send, first=True)
        except (discord.NotFound, discord.Forbidden) as error:
            log.warning(
                "job %d: the gallery of session %d refused its video (%s); posting it in "
                "its channel",
                job.id,
                session.id,
                error,
            )
            return None
        self._sessions.entry_changed(session.id)
        return message_id

    async def earlier(self, job: Job) -> int | None:
        """An entry posted before a crash but never recorded, found in its gallery."""
        session = await self._session(job)
        me = self._client.user
        if session is None or session.thread_id is None or me is None:
            return None
        thread = self._client.get_partial_messageable(session.thread_id, guild_id=job.guild_id)
        marker = notice_marker(job, public_texts(job))
        after = discord.Object(job.status_message_id or session.thread_id)
        try:
            async for message in thread.history(after=after, limit=HISTORY_SEARCH_LIMIT):
                if message.author.id == me.id and marker in message_text(message):
                    return message.id
        except discord.HTTPException as error:
            log.info("job %d: could not search the gallery for its entry: %s", job.id, error)
        return None


def entry_note(job: Job, session: Session | None, tr: Texts) -> str | None:
    """The status card's line for an entry: which session, and its gallery (the card's
    state line links the video itself once it is there)."""
    if job.session_id is None:
        return None
    if session is None:
        return tr("entry.note_unknown")
    theme = theme_text(session.theme, THEME_IN_NOTE_CHARS)
    gallery = f"<#{session.thread_id}>" if session.thread_id else "—"
    return tr("entry.note", theme=theme, gallery=gallery)


class EntryNotes:
    """The status board's `entry_note`: a job's session as this process last read it."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def __call__(self, job: Job, tr: Texts) -> str | None:
        session = None if job.session_id is None else self._sessions.known(job.session_id)
        return entry_note(job, session, tr)


class EntryWatch:
    """A `JobObserver`: an entry's job changed (accepted, delivered, failed), so its
    session's card may change and the end of voting may move."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def job_changed(self, job: Job) -> None:
        if job.session_id is not None:
            self._sessions.entry_changed(job.session_id)
