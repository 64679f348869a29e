"""OutputFetcher against a tiny local server: streaming, caps, allowed URLs, cleanup."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.media.download import OutputFetcher, OutputFetchError, OutputTooLarge

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


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
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
