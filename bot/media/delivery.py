"""A finished video made ready to attach: fetched, checked, re-encoded under an upload
limit when it is over, and kept in the video cache, or the typed reason it cannot be.

This is the whole of delivery that needs no chat service: the caller names a video by a
plain id (the bot uses the job's), gives its URL and the upload limit, and gets either a
`PreparedVideo` in the cache or a `LinkOnly` whose `LinkReason` carries the numbers a
sentence about it needs. Wording is the caller's, in the reader's language; so is the
decision to re-fit after an upload was refused (`refit` does the work). Progress a person
may want to see (waiting for a re-encode, re-encoding, done) goes to a `DeliveryObserver`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from bot.formatting import megabytes
from bot.media.cache import VideoCache
from bot.media.download import OutputFetcher, OutputFetchError, OutputTooLarge
from bot.media.errors import BadMedia, DoesNotFit, FitTimedOut, MediaError, NotAVideo
from bot.media.fitter import VideoFitter
from bot.media.folder import DownloadFolder
from bot.media.limits import BeyondLimits, Breach, MediaLimits
from bot.media.mp4 import NotMp4
from bot.media.probe import DEFAULT_LIMITS, MediaFacts, probe

log = logging.getLogger(__name__)

FIT_MARGIN = 0.95
"""A re-encode aims this far under the upload limit: an encoder's sizes are estimates."""
REFUSED_SHARE = 0.75
"""After an upload was refused as too large, the one re-fit aims this far under its size."""


def fit_target(limit: int) -> int:
    return int(limit * FIT_MARGIN)


class NoFile(Enum):
    """Why there is no file to attach, only the link to the original."""

    TOO_LARGE_TO_DOWNLOAD = "too_large_to_download"
    DOWNLOAD_FAILED = "download_failed"
    NOT_A_VIDEO = "not_a_video"
    DAMAGED = "damaged"
    UNREADABLE = "unreadable"
    DOES_NOT_FIT = "does_not_fit"
    FIT_TOO_SLOW = "fit_too_slow"
    FIT_FAILED = "fit_failed"
    COPY_GONE = "copy_gone"
    """The kept copy was evicted before it could be re-fitted."""
    BEYOND_LIMITS = "beyond_limits"
    """The file claims more than any Kling video could (frames, size, length, rate,
    tracks), or needed more memory to re-encode than a worker may have."""


@dataclass(frozen=True, slots=True)
class LinkReason:
    """`kind`, with the sizes its sentence names (None where it names none)."""

    kind: NoFile
    size_bytes: int | None = None
    """TOO_LARGE_TO_DOWNLOAD: the video's announced size, when it announced one."""
    limit_bytes: int | None = None
    """TOO_LARGE_TO_DOWNLOAD: the upload limit; DOES_NOT_FIT: the size it had to fit."""
    download_limit_bytes: int | None = None
    """TOO_LARGE_TO_DOWNLOAD: the most the bot downloads."""
    breach: Breach | None = None
    """BEYOND_LIMITS: which limit, what the file claimed and what is allowed."""


@dataclass(frozen=True, slots=True)
class PreparedVideo:
    """The kept copy, in the cache and within the limit it was prepared for."""

    path: Path
    facts: MediaFacts
    fitted_from: int | None
    """The original's size in bytes when the copy was re-encoded."""


@dataclass(frozen=True, slots=True)
class LinkOnly:
    """No file can be attached; `facts` are the original's, when it could be read."""

    reason: LinkReason
    facts: MediaFacts | None = None


Prepared = PreparedVideo | LinkOnly


class DeliveryStage(Enum):
    WAITING_TO_FIT = "waiting_to_fit"
    """Queued for one of the re-encoding workers."""
    FITTING = "fitting"
    """A worker is re-encoding (said again as it goes)."""
    FIT_OVER = "fit_over"
    """The re-encode ended, however it ended."""


@dataclass(frozen=True, slots=True)
class DeliveryProgress:
    stage: DeliveryStage
    target_bytes: int
    """The size the re-encode aims under."""


class DeliveryObserver(Protocol):
    """Told of progress on the event loop; must not block."""

    def delivery_progressed(self, progress: DeliveryProgress) -> None: ...


class _Unheard:
    def delivery_progressed(self, progress: DeliveryProgress) -> None:
        return None


def media_reason(error: MediaError) -> LinkReason:
    """Why a file that cannot be read is not attached (the probe's message names a
    temporary file, so only its kind is kept)."""
    if isinstance(error, BeyondLimits):
        return LinkReason(NoFile.BEYOND_LIMITS, breach=error.breach)
    if isinstance(error, NotAVideo):
        return LinkReason(NoFile.NOT_A_VIDEO)
    if isinstance(error, BadMedia):
        return LinkReason(NoFile.DAMAGED)
    return LinkReason(NoFile.UNREADABLE)


def fit_reason(error: MediaError, target: int) -> LinkReason:
    """Why re-encoding under `target` bytes produced no file to attach."""
    if isinstance(error, NotAVideo | BadMedia | BeyondLimits):
        return media_reason(error)
    if isinstance(error, DoesNotFit):
        return LinkReason(NoFile.DOES_NOT_FIT, limit_bytes=target)
    if isinstance(error, FitTimedOut):
        return LinkReason(NoFile.FIT_TOO_SLOW)
    return LinkReason(NoFile.FIT_FAILED)


class VideoDelivery:
    """Prepares videos for upload; `max_download_bytes` caps what is fetched at all, and
    `limits` what a file may claim (the fitter's workers should hold the same).

    A file's facts come from its MP4 index, read in this process without FFmpeg
    (`probe`); only a file that is not an MP4 is read by FFmpeg, in a worker.
    """

    def __init__(
        self,
        fetcher: OutputFetcher,
        *,
        folder: DownloadFolder,
        cache: VideoCache,
        fitter: VideoFitter,
        max_download_bytes: int,
        fit_time_limit_seconds: float,
        limits: MediaLimits = DEFAULT_LIMITS,
    ) -> None:
        self._fetcher = fetcher
        self._folder = folder
        self._cache = cache
        self._fitter = fitter
        self._max_download = max_download_bytes
        self._fit_time_limit = fit_time_limit_seconds
        self._limits = limits
        self._probing = asyncio.Semaphore(1)
        """One probe at a time: a burst of deliveries must not fill the default thread pool."""

    async def prepare(
        self,
        video_id: int,
        url: str,
        *,
        upload_limit: int,
        observer: DeliveryObserver | None = None,
    ) -> Prepared:
        """The kept copy within `upload_limit`, from an earlier attempt or fetched from
        `url` now (re-encoded when it is over); else why there is none."""
        cached = await self._cached(video_id)
        if cached is not None:
            return cached
        with self._folder.file_for(video_id) as download:
            try:
                size = await self._fetcher.fetch(url, download, max_bytes=self._max_download)
            except OutputTooLarge as error:
                return LinkOnly(
                    LinkReason(
                        NoFile.TOO_LARGE_TO_DOWNLOAD,
                        size_bytes=error.size_known,
                        limit_bytes=upload_limit,
                        download_limit_bytes=self._max_download,
                    )
                )
            except OutputFetchError as error:
                log.warning("video %d: could not download it: %s", video_id, error)
                return LinkOnly(LinkReason(NoFile.DOWNLOAD_FAILED))
            log.info("video %d: downloaded %s", video_id, megabytes(size))
            facts = await self._probe(video_id, download)
            if isinstance(facts, LinkOnly):
                return facts
            if facts.size_bytes <= upload_limit:
                path = await self._cache.put(video_id, download)
                return PreparedVideo(path, facts, fitted_from=None)
            target = fit_target(upload_limit)
            return await self._fit_into_cache(video_id, download, facts, target, observer)

    async def refit(
        self, video_id: int, refused: PreparedVideo, *, observer: DeliveryObserver | None = None
    ) -> Prepared:
        """The kept copy re-encoded well under its own size, after an upload of it was
        refused as too large."""
        target = int(refused.facts.size_bytes * REFUSED_SHARE)
        async with self._cache.reading(video_id) as path:
            if path is None:
                return LinkOnly(LinkReason(NoFile.COPY_GONE))
            return await self._fit_into_cache(video_id, path, refused.facts, target, observer)

    @contextlib.asynccontextmanager
    async def holding(self, video_id: int) -> AsyncIterator[Path | None]:
        """The kept copy, not evicted until the block ends (for an upload); None when it
        is gone."""
        async with self._cache.reading(video_id) as path:
            yield path

    async def _cached(self, video_id: int) -> PreparedVideo | None:
        """The copy kept from an earlier attempt (an outage, a restart), if any."""
        async with self._cache.reading(video_id) as path:
            if path is None:
                return None
            facts = await self._probe(video_id, path)
        if isinstance(facts, LinkOnly):
            return None
        log.info("video %d: using the bot's own copy (%s)", video_id, megabytes(facts.size_bytes))
        return PreparedVideo(path, facts, fitted_from=facts.fitted_from_bytes)

    async def _probe(self, video_id: int, path: Path) -> MediaFacts | LinkOnly:
        try:
            try:
                async with self._probing:
                    return await asyncio.to_thread(probe, path, self._limits)
            except NotMp4:
                log.info("video %d: not an MP4, reading it in a worker", video_id)
                return await self._fitter.probe(path)
        except MediaError as error:
            log.warning("video %d: it is unusable: %s", video_id, error)
            return LinkOnly(media_reason(error))

    async def _fit_into_cache(
        self,
        video_id: int,
        source: Path,
        facts: MediaFacts,
        target: int,
        observer: DeliveryObserver | None,
    ) -> Prepared:
        """Re-encode `source` under `target` bytes into the cache; else why not."""
        told = observer or _Unheard()
        with self._folder.file_for(video_id) as fitted:
            told.delivery_progressed(DeliveryProgress(DeliveryStage.WAITING_TO_FIT, target))
            fitting = DeliveryProgress(DeliveryStage.FITTING, target)
            try:
                result = await self._fitter.fit(
                    source,
                    fitted,
                    limit_bytes=target,
                    time_limit_seconds=self._fit_time_limit,
                    on_progress=lambda _: told.delivery_progressed(fitting),
                )
            except MediaError as error:
                log.warning("video %d: could not re-encode it: %s", video_id, error)
                return LinkOnly(fit_reason(error, target), facts)
            finally:
                told.delivery_progressed(DeliveryProgress(DeliveryStage.FIT_OVER, target))
            log.info(
                "video %d: re-encoded %s to %s in %.1f s",
                video_id,
                megabytes(facts.size_bytes),
                megabytes(result.result.size_bytes),
                result.elapsed_seconds,
            )
            path = await self._cache.put(video_id, fitted)
        return PreparedVideo(path, result.result, fitted_from=result.result.fitted_from_bytes)
