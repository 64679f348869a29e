"""A job's final message in its channel: the video, or why there is none.

Posted as a new channel message (never through the interaction token, which dies after
15 minutes) that mentions the requester and replies to the status message. Sending is
idempotent per job: a nonce derived from the job makes Discord return the earlier
message for a repeat, and after a crash the channel is searched for a notice that was
posted but not recorded, so a video is never posted twice.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot.discord_ui.buttons import notice_view
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.render import (
    delivery_text,
    failure_text,
    notice_marker,
    requester_only,
    short_notice_text,
)
from bot.formatting import megabytes
from bot.jobs.model import Job, JobState
from bot.jobs.ports import NoticeError
from bot.media.download import OutputFetcher, OutputFetchError, OutputTooLarge
from bot.wording import outside_words

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
HISTORY_SEARCH_LIMIT = 100


def said(error: discord.HTTPException) -> str:
    """Discord's error text as it may be stored and shown: redacted and short."""
    return outside_words(error.text) or "no details"


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
        fetcher: OutputFetcher,
        *,
        max_download_bytes: int,
        temp_dir: Path | None = None,
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._fetcher = fetcher
        self._max_download = max_download_bytes
        self._temp_dir = temp_dir

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
                return await self._post(job, short_notice_text(job))
        except discord.Forbidden as error:
            raise NoticeError(
                f"missing permission in the channel ({said(error)})", retryable=False
            ) from error
        except discord.NotFound as error:
            raise NoticeError(f"the channel is gone ({said(error)})", retryable=False) from error
        except discord.HTTPException as error:
            raise NoticeError(
                f"Discord error {error.status}: {said(error)}", retryable=is_transient(error)
            ) from error
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise NoticeError(
                f"could not reach Discord ({outside_words(repr(error))})", retryable=True
            ) from error

    async def _send_notice(self, job: Job) -> int | None:
        if job.notice_attempts > 1:
            earlier = await self._find_earlier_notice(job)
            if earlier is not None:
                log.info("job %d: its notice was already posted as %d", job.id, earlier)
                return earlier
        if job.state is JobState.COMPLETED:
            return await self._deliver_video(job)
        if job.state is JobState.CANCELLED and job.cancelled_by is not None:
            return None  # a person cancelled it; the status message says who
        return await self._post(job, failure_text(job))

    async def _deliver_video(self, job: Job) -> int:
        assert job.output_url is not None
        limit = job.origin.upload_limit or DEFAULT_UPLOAD_LIMIT
        with tempfile.TemporaryDirectory(prefix="kling-", dir=self._temp_dir) as folder:
            path = Path(folder) / f"video-{job.id}.mp4"
            try:
                size = await self._fetcher.fetch(
                    job.output_url, path, max_bytes=min(limit, self._max_download)
                )
            except OutputTooLarge as error:
                known = f" ({megabytes(error.size_known)})" if error.size_known else ""
                reason = (
                    f"The video{known} is larger than this server's {megabytes(limit)} upload limit"
                )
                return await self._post(job, delivery_text(job, attached=False, link_reason=reason))
            except OutputFetchError as error:
                log.warning("job %d: could not download the video: %s", job.id, error)
                reason = "The bot could not download the file to attach it"
                return await self._post(job, delivery_text(job, attached=False, link_reason=reason))
            log.info("job %d: attaching %s", job.id, megabytes(size))
            try:
                return await self._post(
                    job,
                    delivery_text(job, attached=True),
                    file=path,
                    filename=f"video-{job.id}.mp4",
                )
            except discord.HTTPException as error:
                if error.status != 413:
                    raise
                reason = "Discord refused the file as too large for this channel"
                return await self._post(job, delivery_text(job, attached=False, link_reason=reason))

    async def _post(
        self, job: Job, content: str, *, file: Path | None = None, filename: str | None = None
    ) -> int:
        view = notice_view(job)
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
            attachment = discord.File(file, filename=filename) if file is not None else None
            optional: dict[str, Any] = {"file": attachment, "reference": reference, "view": view}
            try:
                message = await channel.send(
                    content,
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
        marker = notice_marker(job)
        try:
            async for message in channel.history(
                after=discord.Object(job.status_message_id),
                limit=HISTORY_SEARCH_LIMIT,
                oldest_first=True,
            ):
                if message.author.id == self._client.user.id and marker in message.content:
                    return message.id
        except discord.HTTPException as error:
            log.info(
                "job %d: could not search the channel for an earlier notice: %s", job.id, error
            )
        return None
