"""Fetching a finished video from its output URL, safely.

Output URLs come from an answer over the network, so they are treated as untrusted:
only `https://` is fetched (plus the configured API's own origin, so a local emulator
on `http://127.0.0.1:PORT` works in tests), every redirect hop is checked by the same
rule, the body is streamed to disk in chunks with a hard size cap, and a failed
download never leaves a partial file behind.
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


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    return (url.scheme.lower(), (url.host or "").lower() or None, url.port)


class OutputFetcher:
    """Downloads output files through a shared session it does not own."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        trusted_origin: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
    ) -> None:
        self._session = session
        self._trusted = _origin(URL(trusted_origin)) if trusted_origin else None
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )

    def __repr__(self) -> str:
        return f"OutputFetcher(trusted_origin={self._trusted!r})"

    def is_allowed(self, url: str | URL) -> bool:
        """https with a host, or exactly the trusted origin (scheme, host and port)."""
        try:
            parsed = URL(url) if isinstance(url, str) else url
        except (TypeError, ValueError):
            return False
        if not parsed.is_absolute() or not parsed.host or parsed.user or parsed.password:
            return False
        if parsed.scheme.lower() == "https":
            return True
        return self._trusted is not None and _origin(parsed) == self._trusted

    async def fetch(self, url: str, destination: Path, *, max_bytes: int) -> int:
        """Stream `url` to `destination`; returns the bytes written.

        Writes to `<destination>.part` and renames on success, so `destination` is either
        the whole video or untouched; the part file is removed on any failure, including
        cancellation.
        """
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        partial = destination.with_name(destination.name + ".part")
        try:
            written = await self._download(url, partial, max_bytes)
            os.replace(partial, destination)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise
        logger.info("Saved %d bytes to %s", written, destination)
        return written

    async def _download(self, url: str, partial: Path, max_bytes: int) -> int:
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            if not self.is_allowed(current):
                raise OutputFetchError(
                    "The video link is not a secure https:// address, so the bot did not "
                    "download it."
                )
            try:
                async with self._session.get(
                    current,
                    timeout=self._timeout,
                    allow_redirects=False,
                    raise_for_status=False,
                ) as response:
                    if response.status in _REDIRECT_STATUSES:
                        location = response.headers.get("Location")
                        if not location:
                            raise OutputFetchError("The video host sent a broken redirect.")
                        current = str(response.url.join(URL(location)))
                        continue
                    if response.status != 200:
                        raise OutputFetchError(
                            f"The video host answered with HTTP error {response.status}."
                        )
                    if response.content_length is not None and response.content_length > max_bytes:
                        raise OutputTooLarge(max_bytes, response.content_length)
                    return await self._stream(response, partial, max_bytes)
            except (aiohttp.ClientError, TimeoutError) as exc:
                logger.info("Download failed: %s: %s", type(exc).__name__, exc)
                raise OutputFetchError(
                    "The connection to the video host failed or timed out while downloading."
                ) from None
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
