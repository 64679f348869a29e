"""OutputFetcher against a tiny local server: streaming, caps, allowed URLs, deadlines,
cleanup.

Every session here carries a tripwire: a request to anything but 127.0.0.1 or a `.test`
name (answered by a resolver stub) fails the test before a connection is attempted.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.media.download import (
    DownloadTimedOut,
    OutputFetcher,
    OutputFetchError,
    OutputTooLarge,
    UnsafeOutputUrl,
)
from bot.media.safe_session import make_connector
from tests.bot.media.stubs import TableResolver

BODY = os.urandom(300 * 1024)


class Server:
    """A few routes with known behaviour, plus a count of requests received."""

    def __init__(self) -> None:
        self.hits = 0
        self.first_chunk_sent = asyncio.Event()
        self.finish_stream = asyncio.Event()
        self.base_url = ""
        self.app = web.Application()
        self.app.router.add_get("/video.mp4", self.video)
        self.app.router.add_get("/chunked/{size}", self.chunked)
        self.app.router.add_get("/status/{code}", self.status)
        self.app.router.add_get("/drop", self.drop)
        self.app.router.add_get("/slow", self.slow)
        self.app.router.add_get("/gated", self.gated)
        self.app.router.add_get("/redirect", self.redirect)
        self.app.router.add_get("/loop", self.loop)
        self.app.router.add_get("/elsewhere", self.elsewhere)
        self.app.router.add_get("/trickle", self.trickle)
        self.app.router.add_get("/slow-bounce/{left}", self.slow_bounce)

    async def video(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.Response(body=BODY, content_type="video/mp4")

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        remaining = int(request.match_info["size"])
        while remaining > 0:
            piece = min(remaining, 64 * 1024)
            await response.write(b"v" * piece)
            remaining -= piece
        await response.write_eof()
        return response

    async def status(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.Response(status=int(request.match_info["code"]), text="nope")

    async def drop(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        response = web.StreamResponse()
        response.content_length = len(BODY)
        await response.prepare(request)
        await response.write(BODY[:100_000])
        assert request.transport is not None
        request.transport.abort()
        return response

    async def slow(self, request: web.Request) -> web.Response:
        self.hits += 1
        await asyncio.sleep(2)
        return web.Response(body=b"late")

    async def gated(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        response = web.StreamResponse()
        response.content_length = 2 * 64 * 1024
        await response.prepare(request)
        await response.write(b"a" * 64 * 1024)
        self.first_chunk_sent.set()
        await self.finish_stream.wait()
        await response.write(b"b" * 64 * 1024)
        await response.write_eof()
        return response

    async def redirect(self, request: web.Request) -> web.Response:
        self.hits += 1
        target = request.query.get("to", "/video.mp4")
        raise web.HTTPFound(target)

    async def loop(self, request: web.Request) -> web.Response:
        self.hits += 1
        raise web.HTTPFound("/loop")

    async def elsewhere(self, request: web.Request) -> web.Response:
        self.hits += 1
        raise web.HTTPFound("http://127.0.0.2:9/x.mp4")

    async def trickle(self, request: web.Request) -> web.StreamResponse:
        """One byte every 50 ms: never slow enough for the per-read timeout."""
        self.hits += 1
        response = web.StreamResponse()
        response.content_length = 10_000
        await response.prepare(request)
        for _ in range(10_000):
            await response.write(b"x")
            await asyncio.sleep(0.05)
        return response

    async def slow_bounce(self, request: web.Request) -> web.Response:
        """Each hop is quick enough on its own; together they pass the deadline."""
        self.hits += 1
        await asyncio.sleep(0.15)
        left = int(request.match_info["left"])
        raise web.HTTPFound(f"/slow-bounce/{left - 1}" if left > 0 else "/video.mp4")


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    server = Server()
    runner = web.AppRunner(server.app, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield server
    finally:
        server.finish_stream.set()
        await runner.cleanup()


async def tripwire(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    host = request.url.raw_host or ""
    if host != "127.0.0.1" and not host.endswith(".test"):
        pytest.fail(f"a test tried to reach {request.url}")
    return await handler(request)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(middlewares=(tripwire,)) as session:
        yield session


@pytest.fixture
async def guarded_session(server: Server) -> AsyncIterator[aiohttp.ClientSession]:
    """Like the bot's session: names resolve (here: to 127.0.0.1) and are checked."""
    resolver = TableResolver({"video.test": ["127.0.0.1"], "cdn.test": ["127.0.0.1"]})
    connector = make_connector(trusted_origins=[server.base_url], resolver=resolver)
    async with aiohttp.ClientSession(connector=connector, middlewares=(tripwire,)) as session:
        yield session


@pytest.fixture
def fetcher(session: aiohttp.ClientSession, server: Server) -> OutputFetcher:
    return OutputFetcher(session, trusted_origin=server.base_url, read_timeout=0.3)


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_streams_the_video_to_disk(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    destination = tmp_path / "clip.mp4"
    written = await fetcher.fetch(f"{server.base_url}/video.mp4", destination, max_bytes=len(BODY))
    assert written == len(BODY)
    assert destination.read_bytes() == BODY
    assert leftovers(tmp_path) == ["clip.mp4"]


async def test_writes_chunks_before_the_whole_body_arrives(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    destination = tmp_path / "clip.mp4"
    download = asyncio.create_task(
        fetcher.fetch(f"{server.base_url}/gated", destination, max_bytes=10**6)
    )
    await server.first_chunk_sent.wait()
    partial = tmp_path / "clip.mp4.part"
    for _ in range(200):
        if partial.exists() and partial.stat().st_size >= 64 * 1024:
            break
        await asyncio.sleep(0.005)
    assert partial.stat().st_size == 64 * 1024
    assert not destination.exists()
    server.finish_stream.set()
    assert await download == 2 * 64 * 1024
    assert destination.read_bytes() == b"a" * 64 * 1024 + b"b" * 64 * 1024


async def test_refuses_early_when_content_length_is_too_big(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    with pytest.raises(OutputTooLarge) as caught:
        await fetcher.fetch(f"{server.base_url}/video.mp4", tmp_path / "v.mp4", max_bytes=1000)
    assert caught.value.size_known == len(BODY)
    assert caught.value.max_bytes == 1000
    assert "larger than" in str(caught.value)
    assert leftovers(tmp_path) == []


async def test_stops_when_a_chunked_body_passes_the_cap(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    with pytest.raises(OutputTooLarge) as caught:
        await fetcher.fetch(
            f"{server.base_url}/chunked/500000", tmp_path / "v.mp4", max_bytes=200_000
        )
    assert caught.value.size_known is None
    assert leftovers(tmp_path) == []


async def test_a_body_of_exactly_the_cap_is_fine(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    written = await fetcher.fetch(
        f"{server.base_url}/chunked/200000", tmp_path / "v.mp4", max_bytes=200_000
    )
    assert written == 200_000


@pytest.mark.parametrize("code", [403, 404, 500, 503])
async def test_http_errors(
    fetcher: OutputFetcher, server: Server, tmp_path: Path, code: int
) -> None:
    with pytest.raises(OutputFetchError) as caught:
        await fetcher.fetch(f"{server.base_url}/status/{code}", tmp_path / "v.mp4", max_bytes=10**6)
    assert str(caught.value) == f"The video host answered with HTTP error {code}."
    assert not isinstance(caught.value, OutputTooLarge)
    assert leftovers(tmp_path) == []


async def test_a_dropped_connection_removes_the_partial_file_and_keeps_the_old_one(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    destination = tmp_path / "clip.mp4"
    destination.write_bytes(b"previous video")
    with pytest.raises(OutputFetchError) as caught:
        await fetcher.fetch(f"{server.base_url}/drop", destination, max_bytes=10**6)
    assert "failed or timed out" in str(caught.value)
    assert leftovers(tmp_path) == ["clip.mp4"]
    assert destination.read_bytes() == b"previous video"


async def test_read_timeout(fetcher: OutputFetcher, server: Server, tmp_path: Path) -> None:
    with pytest.raises(OutputFetchError):
        await fetcher.fetch(f"{server.base_url}/slow", tmp_path / "v.mp4", max_bytes=10**6)
    assert leftovers(tmp_path) == []


async def test_connection_refused(session: aiohttp.ClientSession, tmp_path: Path) -> None:
    fetcher = OutputFetcher(session, trusted_origin="http://127.0.0.1:9")
    with pytest.raises(OutputFetchError):
        await fetcher.fetch("http://127.0.0.1:9/v.mp4", tmp_path / "v.mp4", max_bytes=10)
    assert leftovers(tmp_path) == []


async def test_cancellation_removes_the_partial_file(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    download = asyncio.create_task(
        fetcher.fetch(f"{server.base_url}/gated", tmp_path / "v.mp4", max_bytes=10**6)
    )
    await server.first_chunk_sent.wait()
    await asyncio.sleep(0.05)
    download.cancel()
    with pytest.raises(asyncio.CancelledError):
        await download
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{other}/video.mp4",
        "http://localhost:{port}/video.mp4",
        "http://example.com/video.mp4",
        "ftp://example.com/video.mp4",
        "file:///etc/passwd",
        "/video.mp4",
        "https://user:pw@example.com/video.mp4",
        "not a url",
    ],
)
async def test_refused_urls_are_never_requested(
    fetcher: OutputFetcher, server: Server, tmp_path: Path, url: str
) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    with pytest.raises(OutputFetchError) as caught:
        await fetcher.fetch(url.format(port=port, other=port + 1), tmp_path / "v.mp4", max_bytes=10)
    assert "not a secure https:// address" in str(caught.value)
    assert server.hits == 0
    assert leftovers(tmp_path) == []


async def test_without_a_trusted_origin_only_https_is_allowed(
    session: aiohttp.ClientSession, server: Server, tmp_path: Path
) -> None:
    fetcher = OutputFetcher(session)
    assert fetcher.is_allowed("https://cdn.runcomfy.net/outputs/v.mp4")
    assert fetcher.is_allowed("HTTPS://cdn.example:8443/v.mp4")
    assert not fetcher.is_allowed(f"{server.base_url}/video.mp4")
    with pytest.raises(OutputFetchError):
        await fetcher.fetch(f"{server.base_url}/video.mp4", tmp_path / "v.mp4", max_bytes=10**6)
    assert server.hits == 0


def test_trusted_origin_matches_scheme_host_and_port(session: aiohttp.ClientSession) -> None:
    fetcher = OutputFetcher(session, trusted_origin="http://127.0.0.1:8080/")
    assert fetcher.is_allowed("http://127.0.0.1:8080/files/x.mp4")
    assert fetcher.is_allowed("HTTP://127.0.0.1:8080/files/x.mp4")
    assert not fetcher.is_allowed("http://127.0.0.1:8081/files/x.mp4")
    assert not fetcher.is_allowed("http://127.0.0.2:8080/files/x.mp4")


async def test_redirects_on_the_allowed_origin_are_followed(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    written = await fetcher.fetch(
        f"{server.base_url}/redirect", tmp_path / "v.mp4", max_bytes=len(BODY)
    )
    assert written == len(BODY)
    assert server.hits == 2


async def test_a_redirect_to_a_refused_url_is_not_followed(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    with pytest.raises(OutputFetchError) as caught:
        await fetcher.fetch(f"{server.base_url}/elsewhere", tmp_path / "v.mp4", max_bytes=10**6)
    assert "not a secure https:// address" in str(caught.value)
    assert server.hits == 1


async def test_redirect_loops_stop(fetcher: OutputFetcher, server: Server, tmp_path: Path) -> None:
    with pytest.raises(OutputFetchError) as caught:
        await fetcher.fetch(f"{server.base_url}/loop", tmp_path / "v.mp4", max_bytes=10**6)
    assert "redirected too many times" in str(caught.value)
    assert server.hits == 6
    assert leftovers(tmp_path) == []


def test_errors_read_as_plain_words() -> None:
    error = OutputTooLarge(10 * 1024 * 1024, size_known=150 * 1024 * 1024)
    assert str(error) == "The video (150.0 MB) is larger than the 10.0 MB the bot may download."
    assert error.user_message == str(error)
    assert (
        str(OutputTooLarge(1024 * 1024))
        == "The video is larger than the 1.0 MB the bot may download."
    )


NOT_PUBLIC = (
    "The video link points to a private or local network address, so the bot did not download it."
)


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/v.mp4",
        "https://192.168.1.20:8443/v.mp4",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/v.mp4",
        "https://[::1]/v.mp4",
        "https://[fd00:ec2::254]/v.mp4",
        "https://[::ffff:127.0.0.1]/v.mp4",
        "https://127.0.0.1/v.mp4",
        "https://2130706433/v.mp4",
        "https://localhost/v.mp4",
        "https://metadata.google.internal/computeMetadata/v1/",
    ],
)
async def test_https_to_a_private_host_is_refused_before_any_request(
    fetcher: OutputFetcher, server: Server, tmp_path: Path, url: str
) -> None:
    assert not fetcher.is_allowed(url)
    with pytest.raises(UnsafeOutputUrl) as caught:
        await fetcher.fetch(url, tmp_path / "v.mp4", max_bytes=10)
    assert str(caught.value) == NOT_PUBLIC
    assert caught.value.user_message == NOT_PUBLIC
    assert server.hits == 0
    assert leftovers(tmp_path) == []


async def test_refusals_are_unsafe_output_url_errors(
    fetcher: OutputFetcher, server: Server, tmp_path: Path
) -> None:
    with pytest.raises(UnsafeOutputUrl) as caught:
        await fetcher.fetch("http://example.com/v.mp4", tmp_path / "v.mp4", max_bytes=10)
    assert isinstance(caught.value, OutputFetchError)
    assert str(caught.value).startswith("The video link is not a secure https:// address")


@pytest.mark.parametrize(
    "target", ["https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/v.mp4"]
)
async def test_a_redirect_to_a_private_address_is_not_followed(
    fetcher: OutputFetcher, server: Server, tmp_path: Path, target: str
) -> None:
    with pytest.raises(UnsafeOutputUrl) as caught:
        await fetcher.fetch(
            f"{server.base_url}/redirect?to={target}", tmp_path / "v.mp4", max_bytes=10**6
        )
    assert str(caught.value) == NOT_PUBLIC
    assert server.hits == 1


async def test_a_name_resolving_to_loopback_is_refused_when_connecting(
    guarded_session: aiohttp.ClientSession, server: Server, tmp_path: Path
) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    fetcher = OutputFetcher(guarded_session, trusted_origin=server.base_url)
    url = f"https://video.test:{port}/video.mp4"
    assert fetcher.is_allowed(url)  # the link looks fine; its address is not
    with pytest.raises(UnsafeOutputUrl) as caught:
        await fetcher.fetch(url, tmp_path / "v.mp4", max_bytes=10**6)
    assert str(caught.value) == NOT_PUBLIC
    assert server.hits == 0
    assert leftovers(tmp_path) == []


async def test_a_redirect_to_a_name_resolving_to_loopback_is_refused(
    guarded_session: aiohttp.ClientSession, server: Server, tmp_path: Path
) -> None:
    port = int(server.base_url.rsplit(":", 1)[1])
    fetcher = OutputFetcher(guarded_session, trusted_origin=server.base_url)
    target = f"https://cdn.test:{port}/video.mp4"
    with pytest.raises(UnsafeOutputUrl):
        await fetcher.fetch(
            f"{server.base_url}/redirect?to={target}", tmp_path / "v.mp4", max_bytes=10**6
        )
    assert server.hits == 1


async def test_the_guarded_session_still_reaches_the_trusted_origin(
    guarded_session: aiohttp.ClientSession, server: Server, tmp_path: Path
) -> None:
    fetcher = OutputFetcher(guarded_session, trusted_origin=server.base_url)
    written = await fetcher.fetch(
        f"{server.base_url}/redirect", tmp_path / "v.mp4", max_bytes=len(BODY)
    )
    assert written == len(BODY)


async def test_a_host_that_trickles_bytes_hits_the_total_deadline(
    session: aiohttp.ClientSession, server: Server, tmp_path: Path
) -> None:
    fetcher = OutputFetcher(
        session, trusted_origin=server.base_url, read_timeout=1.0, total_seconds=0.3
    )
    started = time.monotonic()
    with pytest.raises(DownloadTimedOut) as caught:
        await fetcher.fetch(f"{server.base_url}/trickle", tmp_path / "v.mp4", max_bytes=10**6)
    assert time.monotonic() - started < 2.0
    assert str(caught.value) == (
        "The video took longer than 0.3 seconds to download, so the bot gave up."
    )
    assert caught.value.total_seconds == 0.3
    assert isinstance(caught.value, OutputFetchError)
    assert leftovers(tmp_path) == []


async def test_the_total_deadline_spans_redirects(
    session: aiohttp.ClientSession, server: Server, tmp_path: Path
) -> None:
    fetcher = OutputFetcher(
        session, trusted_origin=server.base_url, read_timeout=1.0, total_seconds=0.4
    )
    with pytest.raises(DownloadTimedOut):
        await fetcher.fetch(f"{server.base_url}/slow-bounce/8", tmp_path / "v.mp4", max_bytes=10**6)
    assert 2 <= server.hits < 9  # no hop was too slow alone; together they were
    assert leftovers(tmp_path) == []


async def test_a_download_inside_the_deadline_is_unaffected(
    session: aiohttp.ClientSession, server: Server, tmp_path: Path
) -> None:
    fetcher = OutputFetcher(session, trusted_origin=server.base_url, total_seconds=5.0)
    written = await fetcher.fetch(
        f"{server.base_url}/slow-bounce/1", tmp_path / "v.mp4", max_bytes=len(BODY)
    )
    assert written == len(BODY)


@pytest.mark.parametrize("total", [0.0, -1.0])
def test_the_total_deadline_must_be_positive(session: aiohttp.ClientSession, total: float) -> None:
    with pytest.raises(ValueError, match="total_seconds"):
        OutputFetcher(session, total_seconds=total)
