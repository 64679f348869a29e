"""The health port's guard, on a real listening socket with short limits: at most so many
connections, headers within a time and a size, answered requests untouched."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

import pytest

from bot.config import HealthSettings
from bot.health import HealthServer
from bot.health_guard import (
    MAX_CONNECTIONS,
    ConnectionGuard,
    GuardedProtocol,
    GuardLimits,
    headers_end,
)
from bot.metrics import BotMetrics
from testkit.waiting import eventually

LIMITS = GuardLimits(
    max_connections=3,
    header_seconds=0.3,
    idle_seconds=30.0,
    lifetime_seconds=30.0,
    max_request_bytes=512,
)
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n"
PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n"


@dataclass
class Gate:
    """A liveness check that holds every request until opened: a request being answered."""

    opened: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0

    async def check(self) -> str | None:
        self.held += 1
        await self.opened.wait()
        return None


Start = Callable[..., Awaitable[HealthServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Start]:
    servers: list[HealthServer] = []

    async def start(limits: GuardLimits = LIMITS, gate: Gate | None = None) -> HealthServer:
        live = {"gate": gate.check} if gate else {}
        server = HealthServer(
            live=live, ready={}, registry=BotMetrics().registry, timeout=5.0, limits=limits
        )
        await server.start(HealthSettings(port=0, host="127.0.0.1"))
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(address: tuple[str, int], first: bytes = b"") -> Connection:
    reader, writer = await asyncio.open_connection(*address)
    if first:
        writer.write(first)
        await writer.drain()
    return reader, writer


async def response(reader: asyncio.StreamReader, within: float = 2.0) -> bytes:
    """One response's status line and headers (the JSON body is not read)."""
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), within)


async def closed_after(reader: asyncio.StreamReader, within: float = 3.0) -> float:
    """Real seconds until the server closed the connection having sent nothing."""
    began = time.monotonic()
    try:
        got = await asyncio.wait_for(reader.read(), within)
    except ConnectionResetError:
        got = b""
    assert got == b"", f"the server answered {got[:80]!r}"
    return time.monotonic() - began


async def still_open(reader: asyncio.StreamReader, seconds: float = 0.1) -> bool:
    try:
        await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return True
    except ConnectionResetError:
        return False
    return False


def close(*connections: Connection) -> None:
    for _, writer in connections:
        writer.close()


@pytest.mark.parametrize(
    ("data", "start", "end"),
    [
        (REQUEST, 0, len(REQUEST)),
        (b"GET / HTTP/1.1\nHost: bot\n\n", 0, 26),
        (PARTIAL, 0, -1),
        (b"\r\n\r\n\r\n", 0, -1),
        (REQUEST + PARTIAL, 0, len(REQUEST)),
        (REQUEST + REQUEST, 0, 2 * len(REQUEST)),
        (b"bot\r\n\r\n", 4, 7),
        (b"bot\r\n\r\nGET", 7, -1),
    ],
    ids=["crlf", "bare-lf", "unfinished", "blank-lines", "then-partial", "two", "split", "seen"],
)
def test_the_end_of_headers_is_the_blank_line_after_a_header(
    data: bytes, start: int, end: int
) -> None:
    assert headers_end(data, start) == end


async def test_headers_dribbled_too_slowly_are_closed(serve: Start) -> None:
    address = (await serve()).address
    # Before connecting: the guard's clock starts when it accepts, which may come before
    # `connect` returns, so a start taken after it could make the wait look short.
    began = time.monotonic()
    reader, writer = await connect(address, PARTIAL)

    async def dribble() -> None:
        while True:
            await asyncio.sleep(0.05)
            writer.write(b"X")

    dribbling = asyncio.create_task(dribble())
    try:
        await closed_after(reader)
    finally:
        dribbling.cancel()
        writer.close()
    assert LIMITS.header_seconds <= time.monotonic() - began < LIMITS.header_seconds + 1.0


async def test_a_connection_that_sends_nothing_is_closed(serve: Start) -> None:
    reader, writer = await connect((await serve()).address)
    assert LIMITS.header_seconds - 0.05 <= await closed_after(reader) < 1.5
    writer.close()


async def test_blank_lines_do_not_pass_for_a_request(serve: Start) -> None:
    reader, writer = await connect((await serve()).address, b"\r\n")
    began = time.monotonic()
    for _ in range(20):
        await asyncio.sleep(0.05)
        if writer.is_closing() or reader.at_eof():
            break
        writer.write(b"\r\n")
    await closed_after(reader)
    assert time.monotonic() - began < LIMITS.header_seconds + 1.0
    writer.close()


async def test_a_request_too_large_is_closed_at_once(serve: Start) -> None:
    reader, writer = await connect((await serve()).address, PARTIAL + b"X-Big: " + b"x" * 600)
    assert await closed_after(reader) < LIMITS.header_seconds
    writer.close()


async def test_an_answered_request_is_not_hurried_and_the_connection_kept_alive(
    serve: Start,
) -> None:
    """Headers split across reads still count; a check slower than the header limit is
    waited for; a second request follows on the same connection; idle, it is closed."""
    gate = Gate()
    limits = replace(LIMITS, idle_seconds=0.5)
    reader, writer = await connect((await serve(limits, gate)).address, REQUEST[:-1])
    await asyncio.sleep(0.05)
    writer.write(REQUEST[-1:])
    await asyncio.sleep(limits.header_seconds + 0.3)
    assert gate.held == 1
    gate.opened.set()
    assert (await response(reader)).startswith(b"HTTP/1.1 200")
    await reader.readuntil(b"}}}")
    writer.write(REQUEST)
    assert (await response(reader)).startswith(b"HTTP/1.1 200")
    await reader.readuntil(b"}}}")
    assert limits.idle_seconds - 0.1 <= await closed_after(reader) < limits.idle_seconds + 1.5
    writer.close()


async def test_one_over_the_limit_closes_the_connection_waiting_longest(serve: Start) -> None:
    address = (await serve(replace(LIMITS, grace_seconds=0.0))).address
    slow = [await connect(address, PARTIAL) for _ in range(LIMITS.max_connections)]
    probe = await connect(address, REQUEST)
    assert (await response(probe[0])).startswith(b"HTTP/1.1 200")
    assert await closed_after(slow[0][0], within=0.5) < 0.5
    assert [await still_open(reader) for reader, _ in slow[1:]] == [True, True]
    close(*slow, probe)


async def test_a_connection_that_has_sent_nothing_yet_is_spared_a_moment(serve: Start) -> None:
    """Its request may be on its way: one more is refused instead, until the grace is over."""
    limits = replace(LIMITS, header_seconds=5.0, grace_seconds=0.5)
    address = (await serve(limits)).address
    quiet = [await connect(address) for _ in range(limits.max_connections)]
    began = time.monotonic()
    refused = await connect(address, REQUEST)
    assert await closed_after(refused[0], within=0.3) < 0.3
    assert [await still_open(reader, 0.01) for reader, _ in quiet] == [True, True, True]
    await asyncio.sleep(max(0.0, limits.grace_seconds - (time.monotonic() - began)) + 0.1)
    probe = await connect(address, REQUEST)
    assert (await response(probe[0])).startswith(b"HTTP/1.1 200")
    assert await closed_after(quiet[0][0], within=0.5) < 0.5
    close(*quiet, refused, probe)


async def test_one_over_the_limit_is_refused_when_all_are_being_answered(
    serve: Start, caplog: pytest.LogCaptureFixture
) -> None:
    gate = Gate()
    server = await serve(gate=gate)
    address = server.address
    held = [await connect(address, REQUEST) for _ in range(LIMITS.max_connections)]
    await eventually(lambda: gate.held == LIMITS.max_connections, what="requests held")
    with caplog.at_level(logging.WARNING, logger="bot.health_guard"):
        refused = [await connect(address, REQUEST) for _ in range(2)]
        assert [await closed_after(reader, within=0.5) < 0.5 for reader, _ in refused] == [
            True,
            True,
        ]
    [warning] = [r.getMessage() for r in caplog.records if r.name == "bot.health_guard"]
    assert warning.startswith("health endpoint: 1 connections refused at its limit of 3,")
    gate.opened.set()
    for reader, _ in held:
        assert (await response(reader)).startswith(b"HTTP/1.1 200")
    close(*held, *refused)
    await eventually(lambda: server.open_connections == 0, within=2, what="the closes seen")
    after = await connect(address, REQUEST)
    assert (await response(after[0])).startswith(b"HTTP/1.1 200")
    close(after)


async def test_a_connection_is_closed_at_the_end_of_its_lifetime(serve: Start) -> None:
    limits = GuardLimits(max_connections=3, header_seconds=0.3, lifetime_seconds=0.8)
    reader, writer = await connect((await serve(limits)).address)
    began = time.monotonic()

    async def keep_asking() -> None:
        while time.monotonic() - began < 3:
            writer.write(REQUEST)
            assert (await response(reader)).startswith(b"HTTP/1.1 200")
            await reader.readuntil(b"}}")
            await asyncio.sleep(0.1)

    with pytest.raises((asyncio.IncompleteReadError, ConnectionResetError)):
        await keep_asking()
    assert 0.7 <= time.monotonic() - began < 2.0
    writer.close()


@pytest.mark.parametrize(
    ("open_files", "connections"), [(1024, 64), (256, 16), (65536, MAX_CONNECTIONS), (8, 1)]
)
def test_the_health_port_takes_at_most_an_eighth_of_the_open_files(
    open_files: int, connections: int
) -> None:
    limits = GuardLimits.within(open_files)
    assert limits.max_connections == connections
    assert limits.descriptors > connections
    if open_files >= 16:
        assert limits.descriptors <= open_files // 8


class StubTransport(asyncio.Transport):
    """Closes like asyncio's: the protocol hears of it in the next turn of the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.protocol: asyncio.Protocol | None = None
        self.aborted = False

    def abort(self) -> None:
        if not self.aborted and self.protocol is not None:
            self.aborted = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def is_closing(self) -> bool:
        return self.aborted


@dataclass
class Inner(asyncio.Protocol):
    """aiohttp's handler in the small: what reached it."""

    received: list[bytes] = field(default_factory=list)
    lost: bool = False

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


@dataclass
class Opened:
    protocol: GuardedProtocol
    transport: StubTransport
    inner: list[Inner]
    """The handler, once the guard made one."""


def open_one(guard: ConnectionGuard) -> Opened:
    made: list[Inner] = []

    def make() -> Inner:
        made.append(Inner())
        return made[-1]

    protocol = guard.protocol(make)
    transport = StubTransport()
    transport.protocol = protocol
    protocol.connection_made(transport)
    return Opened(protocol, transport, made)


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_a_new_connection_is_spared_until_the_loop_has_looked_for_its_request() -> None:
    """Connections accepted together are all made before any is read: one that has sent
    nothing may not be closed for room before the loop has polled it once."""
    guard = ConnectionGuard(replace(LIMITS, grace_seconds=0.0))
    first = [open_one(guard) for _ in range(LIMITS.max_connections)]
    refused = open_one(guard)
    assert refused.transport.aborted
    assert refused.inner == [], "no handler is made for a refused connection"
    await turns(3)
    admitted = open_one(guard)
    assert [one.transport.aborted for one in (*first, admitted)] == [True, False, False, False]
    await turns(1)
    assert first[0].inner[0].lost
    assert guard.open_connections == LIMITS.max_connections


async def test_bytes_reach_the_handler_and_a_request_ends_the_wait() -> None:
    guard = ConnectionGuard(replace(LIMITS, grace_seconds=0.0))
    answered = open_one(guard)
    answered.protocol.data_received(REQUEST[:10])
    answered.protocol.data_received(REQUEST[10:])
    assert b"".join(answered.inner[0].received) == REQUEST
    others = [open_one(guard) for _ in range(LIMITS.max_connections - 1)]
    for other in others:
        other.protocol.data_received(PARTIAL)
    one_more = open_one(guard)
    assert not answered.transport.aborted, "a request being answered is not closed for room"
    assert others[0].transport.aborted
    assert not one_more.transport.aborted
