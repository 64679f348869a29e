"""A job's final message in its channel: the video, or why there is none.

Posted as a new channel message (never through the interaction token, which dies after
15 minutes) that mentions the requester and replies to the status message. Sending is
idempotent per job: a nonce derived from the job makes Discord return the earlier
message for a repeat, and after a crash the channel is searched for a notice that was
posted but not recorded, so a video is never posted twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
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
    public_texts,
    requester_only,
    short_notice_text,
)
from bot.formatting import megabytes
from bot.i18n import Texts, english
from bot.jobs.model import Job, JobState
from bot.jobs.ports import NoticeError, NoticeProblem
from bot.media.cache import VideoCache
from bot.media.download import OutputFetcher, OutputFetchError, OutputTooLarge
from bot.media.errors import BadMedia, DoesNotFit, FitTimedOut, MediaError, NotAVideo
from bot.media.fitter import VideoFitter
from bot.media.folder import DownloadFolder
from bot.media.probe import MediaFacts, probe
from bot.wording import outside_words

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
HISTORY_SEARCH_LIMIT = 100
FIT_MARGIN = 0.95
"""A re-encode aims this far under the upload limit: an encoder's sizes are estimates."""
REFUSED_SHARE = 0.75
"""After Discord refused a file as too large, the one retry aims this far under its size."""
FILE_TOO_LARGE_CODE = 40005


@dataclass(frozen=True, slots=True)
class MediaTools:
    """What the notifier needs to download, check, re-encode and keep videos."""

    folder: DownloadFolder
    cache: VideoCache
    fitter: VideoFitter
    fit_time_limit_seconds: float
    show_note: Callable[[Job, str | None], None]
    """Shows a passing fact (a re-encode in progress) on the job's status message."""


@dataclass(frozen=True, slots=True)
class _Ready:
    """The bot's copy of the video is in the cache, small enough to attach."""

    facts: MediaFacts
    fitted_from: int | None
    """The original's size in bytes when the copy was re-encoded."""


@dataclass(frozen=True, slots=True)
class _LinkOnly:
    """No file can be attached; `reason` says why in plain words."""

    reason: str
    facts: MediaFacts | None = None


def fit_target(limit: int) -> int:
    return int(limit * FIT_MARGIN)


def fitting_note(target: int, tr: Texts | None = None) -> str:
    tr = tr or english()
    return tr("media.fitting", size=tr.megabytes(target))


def media_problem(error: MediaError, tr: Texts | None = None) -> str:
    """A bad file, in words for the requester (the probe's own names a temp file)."""
    tr = tr or english()
    if isinstance(error, NotAVideo):
        return tr("media.not_a_video")
    if isinstance(error, BadMedia):
        return tr("media.damaged")
    return tr("media.unreadable")


def fit_problem(error: MediaError, target: int, tr: Texts | None = None) -> str:
    """Why re-encoding did not produce a file to attach, for the requester."""
    tr = tr or english()
    if isinstance(error, NotAVideo | BadMedia):
        return media_problem(error, tr)
    if isinstance(error, DoesNotFit):
        return tr("media.does_not_fit", size=tr.megabytes(target))
    if isinstance(error, FitTimedOut):
        return tr("media.fit_too_slow")
    return tr("media.fit_failed")


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
        fetcher: OutputFetcher,
        media: MediaTools,
        *,
        max_download_bytes: int,
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._fetcher = fetcher
        self._media = media
        self._max_download = max_download_bytes
        self._probing = asyncio.Semaphore(1)
        """One probe at a time: PyAV holds the GIL for much of its work, and many at once
        (a burst of deliveries) slowed the event loop and filled the default thread pool."""

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
                return await self._post(job, short_notice_text(job, public_texts(job)))
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
            if earlier is not None:
                log.info("job %d: its notice was already posted as %d", job.id, earlier)
                return earlier
        if job.state is JobState.COMPLETED:
            return await self._deliver_video(job)
        if job.state is JobState.CANCELLED and job.cancelled_by is not None:
            return None  # a person cancelled it; the status message says who
        return await self._post(job, failure_text(job, public_texts(job)))

    async def _deliver_video(self, job: Job) -> int:
        """Attach the video (re-encoded if it is over the limit), else post the link.

        Downloading and re-encoding happen before anything is queued in the channel's
        outbox, so a long encode never holds up other messages in the channel."""
        limit = job.origin.upload_limit or DEFAULT_UPLOAD_LIMIT
        ready = await self._prepare(job, limit)
        if isinstance(ready, _LinkOnly):
            return await self._post_link(job, ready)
        posted = await self._attach(job, ready)
        if posted is not None:
            return posted
        size = ready.facts.size_bytes
        log.info("job %d: Discord refused %s as too large", job.id, megabytes(size))
        smaller = await self._refit(job, ready, int(size * REFUSED_SHARE))
        refused = public_texts(job)("media.discord_refused")
        if isinstance(smaller, _LinkOnly):
            reason = f"{refused}. {smaller.reason}"
            return await self._post_link(job, _LinkOnly(reason, ready.facts))
        posted = await self._attach(job, smaller)
        if posted is not None:
            return posted
        return await self._post_link(job, _LinkOnly(refused, smaller.facts))

    async def _prepare(self, job: Job, limit: int) -> _Ready | _LinkOnly:
        """The bot's copy of the video, within `limit`, in the cache; else why not."""
        cached = await self._cached(job)
        if cached is not None:
            return cached
        assert job.output_url is not None
        tr = public_texts(job)
        with self._media.folder.file_for(job.id) as download:
            try:
                size = await self._fetcher.fetch(
                    job.output_url, download, max_bytes=self._max_download
                )
            except OutputTooLarge as error:
                known = f" ({tr.megabytes(error.size_known)})" if error.size_known else ""
                return _LinkOnly(
                    tr(
                        "media.too_large_to_download",
                        known=known,
                        limit=tr.megabytes(limit),
                        download=tr.megabytes(self._max_download),
                    )
                )
            except OutputFetchError as error:
                log.warning("job %d: could not download the video: %s", job.id, error)
                return _LinkOnly(tr("media.download_failed"))
            log.info("job %d: downloaded %s", job.id, megabytes(size))
            facts = await self._probe(job, download)
            if isinstance(facts, _LinkOnly):
                return facts
            if facts.size_bytes <= limit:
                await self._media.cache.put(job.id, download)
                return _Ready(facts, fitted_from=None)
            return await self._fit_into_cache(job, download, facts, fit_target(limit))

    async def _cached(self, job: Job) -> _Ready | None:
        """The copy kept from an earlier attempt (a Discord outage, a restart), if any."""
        async with self._media.cache.reading(job.id) as path:
            if path is None:
                return None
            facts = await self._probe(job, path)
        if isinstance(facts, _LinkOnly):
            return None
        log.info("job %d: using the bot's own copy (%s)", job.id, megabytes(facts.size_bytes))
        return _Ready(facts, fitted_from=facts.fitted_from_bytes)

    async def _probe(self, job: Job, path: Path) -> MediaFacts | _LinkOnly:
        """The file's facts, or in plain words why it cannot be shown."""
        try:
            async with self._probing:
                return await asyncio.to_thread(probe, path)
        except MediaError as error:
            log.warning("job %d: the video is unusable: %s", job.id, error)
            return _LinkOnly(media_problem(error, public_texts(job)))

    async def _fit_into_cache(
        self, job: Job, source: Path, facts: MediaFacts, target: int
    ) -> _Ready | _LinkOnly:
        """Re-encode `source` under `target` bytes into the cache; else why not."""
        tr = public_texts(job)
        with self._media.folder.file_for(job.id) as fitted:
            self._media.show_note(job, tr("media.waiting_to_fit"))
            try:
                result = await self._media.fitter.fit(
                    source,
                    fitted,
                    limit_bytes=target,
                    time_limit_seconds=self._media.fit_time_limit_seconds,
                    on_progress=lambda _: self._media.show_note(job, fitting_note(target, tr)),
                )
            except MediaError as error:
                log.warning("job %d: could not re-encode the video: %s", job.id, error)
                return _LinkOnly(fit_problem(error, target, tr), facts)
            finally:
                self._media.show_note(job, None)
            log.info(
                "job %d: re-encoded %s to %s in %.1f s",
                job.id,
                megabytes(facts.size_bytes),
                megabytes(result.result.size_bytes),
                result.elapsed_seconds,
            )
            await self._media.cache.put(job.id, fitted)
        return _Ready(result.result, fitted_from=result.result.fitted_from_bytes)

    async def _refit(self, job: Job, refused: _Ready, target: int) -> _Ready | _LinkOnly:
        """The kept copy re-encoded under `target`, after Discord refused it."""
        async with self._media.cache.reading(job.id) as path:
            if path is None:
                return _LinkOnly(public_texts(job)("media.copy_gone"))
            return await self._fit_into_cache(job, path, refused.facts, target)

    async def _attach(self, job: Job, ready: _Ready) -> int | None:
        """Post the kept copy: the message id, or None when Discord refused the file as
        too large for the channel."""
        text = delivery_text(
            job,
            attached=True,
            facts=ready.facts,
            fitted_from=ready.fitted_from,
            tr=public_texts(job),
        )
        async with self._media.cache.reading(job.id) as path:
            if path is None:
                raise NoticeError(NoticeProblem.COPY_GONE, retryable=True)
            try:
                posted = await self._post(job, text, file=path, filename=f"video-{job.id}.mp4")
            except discord.HTTPException as error:
                if error.status != 413 and error.code != FILE_TOO_LARGE_CODE:
                    raise
                return None
        return posted

    async def _post_link(self, job: Job, link: _LinkOnly) -> int:
        text = delivery_text(
            job,
            attached=False,
            link_reason=link.reason,
            facts=link.facts,
            tr=public_texts(job),
        )
        return await self._post(job, text)

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
        marker = notice_marker(job, public_texts(job))
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
