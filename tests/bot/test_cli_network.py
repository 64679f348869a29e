"""`python -m bot generate` without a usable RunComfy: each cause says the host and what to
check, in one line, with the exit code the bot uses for the same cause."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot import cli
from bot.exits import Exit


async def generate(base: str, tmp_path: Path, **env: str) -> tuple[int, str]:
    err = io.StringIO()
    code = await cli.run(
        ["a fox in the snow", "--out", str(tmp_path / "v.mp4")],
        env={"RUNCOMFY_API_TOKEN": "rc-token-for-the-test", "RUNCOMFY_API_BASE": base, **env},
        stdout=io.StringIO(),
        stderr=err,
    )
    return code, err.getvalue()


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: Could not reach RunComfy at ")
    return lines[0]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def plain_http_port() -> AsyncIterator[int]:
    """A server that speaks plain HTTP, so an https:// address fails its TLS handshake."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose listen queue is full: new connections are never accepted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A server that takes the request and never answers."""

    async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(100):
            pass
        writer.close()

    server = await asyncio.start_server(ignore, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_a_host_that_does_not_resolve(tmp_path: Path) -> None:
    code, err = await generate("https://runcomfy.invalid", tmp_path)
    line = one_line(err)
    assert code == Exit.FAILED
    assert "runcomfy.invalid: cannot resolve the host name" in line
    assert "RUNCOMFY_API_BASE" in line
    assert "Nothing was sent to RunComfy or charged." in line


async def test_a_refused_connection(tmp_path: Path, closed_port: int) -> None:
    code, err = await generate(f"https://127.0.0.1:{closed_port}", tmp_path)
    line = one_line(err)
    assert code == Exit.FAILED
    assert f"127.0.0.1:{closed_port}: the connection was refused" in line
    assert "check the port in RUNCOMFY_API_BASE" in line


async def test_a_tls_failure(tmp_path: Path, plain_http_port: int) -> None:
    code, err = await generate(f"https://127.0.0.1:{plain_http_port}", tmp_path)
    line = one_line(err)
    assert code == Exit.FAILED
    assert f"127.0.0.1:{plain_http_port}: the TLS handshake failed" in line
    assert "CA certificates" in line


async def test_a_connection_that_times_out(tmp_path: Path, unanswered_port: int) -> None:
    base = f"https://127.0.0.1:{unanswered_port}"
    code, err = await generate(base, tmp_path, RUNCOMFY_CONNECT_TIMEOUT_SECONDS="0.3")
    line = one_line(err)
    assert code == Exit.FAILED
    assert f"127.0.0.1:{unanswered_port}: no answer in time" in line
    assert "Nothing was sent to RunComfy or charged." in line


async def test_an_answer_that_never_comes_after_sending_names_the_host(
    tmp_path: Path, silent_port: int
) -> None:
    """The job went out: it may have been accepted, so it is never sent again."""
    code, err = await generate(
        f"http://127.0.0.1:{silent_port}", tmp_path, RUNCOMFY_READ_TIMEOUT_SECONDS="0.3"
    )
    [line] = err.splitlines()
    assert code == Exit.FAILED
    assert "Check the RunComfy dashboard before trying again" in line
    assert f"(RunComfy at 127.0.0.1:{silent_port}: no answer in time.)" in line
