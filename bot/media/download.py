"""Fetching a finished video from its output URL, safely.

Output URLs come from an answer over the network, so they are treated as untrusted:
only `https://` to a public host is fetched (plus the configured API's own origin, so a
local emulator on `http://127.0.0.1:PORT` works in tests), every redirect hop is checked
by the same rule, the body is streamed to disk in chunks with a hard size cap, the whole
download has a deadline, and a failed download never leaves a partial file behind.

The URL check here gives a clear answer before any request; the addresses actually
connected to are checked by the session from `bot.media.safe_session`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

import aiohttp
from yarl import URL

from bot.formatting import megabytes
from bot.media.addresses import is_public_host, is_public_https_link
from bot.media.safe_session import origin_of, unsafe_cause

logger = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class OutputFetchError(Exception):
    """The video could not be downloaded. `str()` is a plain sentence safe to show anyone."""

    @property
    def user_message(self) -> str:
        return str(self)


class OutputTooLarge(OutputFetchError):
    """The video is bigger than allowed; `size_known` is its announced size, if any."""

    def __init__(self, max_bytes: int, size_known: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.size_known = size_known
        size = f" ({megabytes(size_known)})" if size_known is not None else ""
        super().__init__(
            f"The video{size} is larger than the {megabytes(max_bytes)} the bot may download."
        )


class UnsafeOutputUrl(OutputFetchError):
    """The link is not one the bot may download: not https, or not a public address."""


class DownloadTimedOut(OutputFetchError):
    """The whole download took longer than the fetcher's total deadline."""

    def __init__(self, total_seconds: float) -> None:
        self.total_seconds = total_seconds
        super().__init__(
            f"The video took longer than {total_seconds:g} seconds to download, so the bot gave up."
        )


NOT_HTTPS = "The video link is not a secure https:// address, so the bot did not download it."
NOT_PUBLIC = (
    "The video link points to a private or local network address, so the bot did not download it."
)


class OutputFetcher:
    """Downloads output files through a shared session it does not own.

    The session should come from `bot.media.safe_session.make_session`, which checks the
    addresses a connection really uses; this class checks the links themselves.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        trusted_origin: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        total_seconds: float = 600.0,
    ) -> None:
        if total_seconds <= 0:
            raise ValueError("total_seconds must be positive")
        self._session = session
        self._trusted = origin_of(URL(trusted_origin)) if trusted_origin else None
        self._total_seconds = total_seconds
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )

    def __repr__(self) -> str:
        return (
            f"OutputFetcher(trusted_origin={self._trusted!r}, "
            f"total_seconds={self._total_seconds!r})"
        )

    def is_allowed(self, url: str | URL) -> bool:
        """https to a public host, or exactly the trusted origin (scheme, host and port)."""
        return self._refusal(str(url)) is None

    def _refusal(self, url: str) -> str | None:
        """Why `url` may not be fetched, as a sentence; None when it may."""
        if self._is_trusted(url) or is_public_https_link(url):
            return None
        try:
            parsed = URL(url)
        except ValueError:
            return NOT_HTTPS
        secure = parsed.scheme.lower() == "https" and not parsed.user and not parsed.password
        if secure and parsed.raw_host and not is_public_host(parsed.raw_host):
            return NOT_PUBLIC
        return NOT_HTTPS

    def _is_trusted(self, url: str) -> bool:
        if self._trusted is None:
            return False
        try:
            parsed = URL(url)
        except ValueError:
            return False
        return not parsed.user and not parsed.password and origin_of(parsed) == self._trusted

    async def fetch(self, url: str, destination: Path, *, max_bytes: int) -> int:
        """Stream `url` to `destination`; returns the bytes written.

        Writes to `<destination>.part` and renames on success, so `destination` is either
        the whole video or untouched; the part file is removed on any failure, including
        cancellation and the total deadline passing.
        """
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        partial = destination.with_name(destination.name + ".part")
        try:
            written = await self._download_in_time(url, partial, max_bytes)
            os.replace(partial, destination)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        logger.debug("Saved %d bytes to %s", written, destination)
        return written

    async def _download_in_time(self, url: str, partial: Path, max_bytes: int) -> int:
        """The per-read timeout cannot stop a host that trickles bytes; this deadline can."""
        try:
            async with asyncio.timeout(self._total_seconds) as deadline:
                return await self._download(url, partial, max_bytes)
        except TimeoutError:
            if deadline.expired():
                raise DownloadTimedOut(self._total_seconds) from None
            raise

    async def _download(self, url: str, partial: Path, max_bytes: int) -> int:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            refusal = self._refusal(current)
            if refusal is not None:
                raise UnsafeOutputUrl(refusal)
            try:
                async with self._session.get(
                    current,
                    timeout=self._timeout,
                    allow_redirects=False,
                    raise_for_status=False,
                ) as response:
                    if response.status in _REDIRECT_STATUSES:
                        current = _redirect_target(response)
                        continue
                    if response.status != 200:
                        raise OutputFetchError(
                            f"The video host answered with HTTP error {response.status}."
                        )
                    if response.content_length is not None and response.content_length > max_bytes:
                        raise OutputTooLarge(max_bytes, response.content_length)
                    return await self._stream(response, partial, max_bytes)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise _connection_error(exc) from None
        raise OutputFetchError("The video link redirected too many times.")

    async def _stream(self, response: aiohttp.ClientResponse, partial: Path, max_bytes: int) -> int:
        """Disk writes run in a worker thread: a slow disk must not stall the event loop."""
        written = 0
        file = await asyncio.to_thread(partial.open, "wb")
        try:
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                written += len(chunk)
                if written > max_bytes:
                    raise OutputTooLarge(max_bytes, response.content_length)
                await asyncio.to_thread(file.write, chunk)
        finally:
            await asyncio.to_thread(file.close)
        return written


def _redirect_target(response: aiohttp.ClientResponse) -> str:
    location = response.headers.get("Location")
    if not location:
        raise OutputFetchError("The video host sent a broken redirect.")
    try:
        return str(response.url.join(URL(location)))
    except ValueError:
        raise OutputFetchError("The video host sent a broken redirect.") from None


def _connection_error(exc: BaseException) -> OutputFetchError:
    """The sentence for a failed connection; a refused private address says so."""
    refused = unsafe_cause(exc)
    if refused is not None:
        logger.warning("Refused to connect for a download: %s", refused)
        return UnsafeOutputUrl(NOT_PUBLIC)
    logger.info("Download failed: %s: %s", type(exc).__name__, exc)
    return OutputFetchError(
        "The connection to the video host failed or timed out while downloading."
    )
