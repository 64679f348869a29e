"""A job's final message in its channel: the video's result card, or why there is none.

Posted as a new channel message (never through the interaction token, which dies after
15 minutes) that mentions the requester and replies to the status message; the message
is a Components V2 card (`result_card`), the video attached and playing inside it.
Sending is idempotent per job: a nonce derived from the job makes Discord return the
earlier message for a repeat, and after a crash the channel is searched for a notice
that was posted but not recorded (read from its text displays), so a video is never
posted twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import discord

from bot.discord_ui.card_text import Shown, notice_marker
from bot.discord_ui.delivery_words import link_reason_text, progress_note
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.render import public_texts, requester_only
from bot.discord_ui.result_card import (
    failure_card,
    layout_texts,
    short_card,
    video_card,
    video_filename,
)
from bot.formatting import megabytes
from bot.jobs.model import Job, JobState
from bot.jobs.ports import NoticeError, NoticeProblem
from bot.media.delivery import DeliveryProgress, LinkOnly, PreparedVideo, VideoDelivery
from bot.media.probe import MediaFacts
from bot.wording import outside_words

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
HISTORY_SEARCH_LIMIT = 100
FILE_TOO_LARGE_CODE = 40005


class Gallery(Protocol):
    """Where a prompt session's entries go (`bot.discord_ui.sessions.gallery`)."""

    async def deliver(self, job: Job, shown: Shown, *, file: Path | None) -> int | None:
        """Post the video as an entry; None when the job is no entry, or its gallery
        cannot take it (then it is posted in its channel as any video)."""

    async def earlier(self, job: Job) -> int | None:
        """An entry posted before a crash but never recorded."""


class StatusNotes(Protocol):
    def set_note(self, job: Job, note: str | None) -> None:
        """Show (None: remove) a passing line on the job's status message."""


@dataclass(frozen=True, slots=True)
class NoteOnStatus:
    """A job's delivery progress (a re-encode waiting, running, over), on its status."""

    job: Job
    notes: StatusNotes

    def delivery_progressed(self, progress: DeliveryProgress) -> None:
        self.notes.set_note(self.job, progress_note(progress, public_texts(self.job)))


def said(error: discord.HTTPException) -> str:
    """Discord's error text as the job may record it: redacted and short, empty when
    Discord gave none."""
    return outside_words(error.text) or ""


def is_transient(error: discord.HTTPException) -> bool:
    """Worth retrying: rate limits and Discord's own errors. Any other 4xx will be refused
    again however often it is sent."""
    return error.status == 429 or error.status >= 500


def notice_nonce(job: Job) -> str:
    """Deterministic per job and kind of final message, ≤ 25 characters as Discord
    requires: a late video and the "taking longer" notice before it are two messages."""
    return f"kling-job-{job.id}-{job.state.value[:4]}"


class ChannelNotifier:
    """The tracker's `Notifier`, posting through the channel outbox."""

    def __init__(
        self,
        client: discord.Client,
        outbox: ChannelOutbox,
        delivery: VideoDelivery,
        notes: StatusNotes,
        gallery: Gallery | None = None,
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._delivery = delivery
        self._notes = notes
        self._gallery = gallery

    async def send_notice(self, job: Job) -> int | None:
        try:
            try:
                return await self._send_notice(job)
            except discord.HTTPException as error:
                if error.status != 400:
                    raise
                log.warning(
                    "job %d: Discord refused its notice (%s); posting it shorter", job.id, error
                )
                return await self._post(job, short_card(job))
        except discord.Forbidden as error:
            raise NoticeError(
                NoticeProblem.MISSING_PERMISSION, said(error), retryable=False
            ) from error
        except discord.NotFound as error:
            raise NoticeError(NoticeProblem.CHANNEL_GONE, said(error), retryable=False) from error
        except discord.HTTPException as error:
            raise NoticeError(
                NoticeProblem.DISCORD_ERROR,
                f"{error.status} {said(error)}".strip(),
                retryable=is_transient(error),
            ) from error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise NoticeError(
                NoticeProblem.UNREACHABLE, outside_words(repr(error)), retryable=True
            ) from error

    async def _send_notice(self, job: Job) -> int | None:
        if job.notice_attempts > 1:
            earlier = await self._find_earlier_notice(job)
            if earlier is None and self._gallery is not None and job.session_id is not None:
                earlier = await self._gallery.earlier(job)
            if earlier is not None:
                log.info("job %d: its notice was already posted as %d", job.id, earlier)
                return earlier
        if job.state is JobState.COMPLETED:
            return await self._deliver_video(job)
        if job.state is JobState.CANCELLED and job.cancelled_by is not None:
            return None  # a person cancelled it; the status message says who
        return await self._post(job, failure_card(job))

    async def _deliver_video(self, job: Job) -> int:
        """Attach the video (re-encoded if it is over the limit), else post the link.

        The video is made ready before anything is queued in the channel's outbox, so a
        long encode never holds up other messages in the channel."""
        assert job.output_url is not None
        tr = public_texts(job)
        progress = NoteOnStatus(job, self._notes)
        limit = job.origin.upload_limit or DEFAULT_UPLOAD_LIMIT
        ready = await self._delivery.prepare(
            job.id, job.output_url, upload_limit=limit, observer=progress
        )
        if isinstance(ready, LinkOnly):
            return await self._post_link(job, link_reason_text(ready.reason, tr), ready.facts)
        posted = await self._attach(job, ready)
        if posted is not None:
            return posted
        log.info(
            "job %d: Discord refused %s as too large", job.id, megabytes(ready.facts.size_bytes)
        )
        smaller = await self._delivery.refit(job.id, ready, observer=progress)
        refused = tr("media.discord_refused")
        if isinstance(smaller, LinkOnly):
            reason = f"{refused}. {link_reason_text(smaller.reason, tr)}"
            return await self._post_link(job, reason, ready.facts)
        posted = await self._attach(job, smaller)
        if posted is not None:
            return posted
        return await self._post_link(job, refused, smaller.facts)

    async def _attach(self, job: Job, ready: PreparedVideo) -> int | None:
        """Post the kept copy: the message id, or None when Discord refused the file as
        too large for the channel."""
        shown = Shown(ready.facts, attached=True, fitted_from=ready.fitted_from)
        async with self._delivery.holding(job.id) as path:
            if path is None:
                raise NoticeError(NoticeProblem.COPY_GONE, retryable=True)
            try:
                posted = await self._post(job, video_card(job, shown), file=path, shown=shown)
            except discord.HTTPException as error:
                if error.status != 413 and error.code != FILE_TOO_LARGE_CODE:
                    raise
                return None
        return posted

    async def _post_link(self, job: Job, reason: str, facts: MediaFacts | None) -> int:
        shown = Shown(facts, attached=False, link_reason=reason)
        return await self._post(job, video_card(job, shown), shown=shown)

    async def _post(
        self,
        job: Job,
        card: discord.ui.LayoutView,
        *,
        file: Path | None = None,
        shown: Shown | None = None,
    ) -> int:
        """Send `card` (with the video as `video_filename(job)` when `file` is given); a
        prompt session's entry (`shown`: its video) goes to the session's gallery."""
        if shown is not None and self._gallery is not None and job.session_id is not None:
            posted = await self._gallery.deliver(job, shown, file=file)
            if posted is not None:
                return posted
        channel = self._client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        reference = None
        if job.status_message_id is not None:
            reference = discord.MessageReference(
                message_id=job.status_message_id,
                channel_id=job.channel_id,
                guild_id=job.guild_id,
                fail_if_not_exists=False,
            )

        async def send() -> int:
            attachment = None
            if file is not None:
                attachment = discord.File(file, filename=video_filename(job))
            optional: dict[str, Any] = {"file": attachment, "reference": reference}
            try:
                message = await channel.send(
                    view=card,
                    allowed_mentions=requester_only(job),
                    nonce=notice_nonce(job),
                    **{key: value for key, value in optional.items() if value is not None},
                )
            finally:
                if attachment is not None:
                    attachment.close()
            return message.id

        return await self._outbox.send(job.channel_id, send, first=True)

    async def _find_earlier_notice(self, job: Job) -> int | None:
        """A notice posted before a crash but never recorded, found in the channel."""
        if job.status_message_id is None or self._client.user is None:
            return None
        channel = self._client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        marker = notice_marker(job, public_texts(job))
        try:
            async for message in channel.history(
                after=discord.Object(job.status_message_id),
                limit=HISTORY_SEARCH_LIMIT,
                oldest_first=True,
            ):
                if message.author.id == self._client.user.id and marker in message_text(message):
                    return message.id
        except discord.HTTPException as error:
            log.info(
                "job %d: could not search the channel for an earlier notice: %s", job.id, error
            )
        return None


def message_text(message: discord.Message) -> str:
    """What a message says: its content, or its card's text displays."""
    return "\n".join([message.content, *layout_texts(message.components)])
