"""The health port's gatekeeper: whoever can reach the port must never take what the bot
itself needs (1,100 slow connections once used up the process's 1,024 descriptors, and a
member's command went unanswered).

aiohttp's server limits the size of a request line and of its headers and closes an idle
keep-alive connection, but it accepts every connection and waits for a request's headers
as long as bytes keep coming. So each of its connection handlers sits behind a
`GuardedProtocol` made by one `ConnectionGuard`, which sees the bytes on their way in and

- holds at most `max_connections` connections: one more closes the connection that has
  waited longest for its request's headers, or, when every connection is being answered
  or has only just opened, is itself closed at once. A connection that has sent nothing
  yet is spared until the loop has had a chance to read it, and for `grace_seconds` (its
  request may be on its way), so a probe that sends its request at once is served while
  slow connections keep arriving;
- closes a connection whose request headers are not complete `header_seconds` after its
  first byte (or after it opened), or that sends `max_request_bytes` without ending them;
- closes any connection `lifetime_seconds` after it opened, whatever it does.

aiohttp keeps parsing the requests and prometheus_client keeps answering /metrics: the guard
only looks for the blank line that ends a request's headers. The health paths take no body,
so bytes after that line are the next request's, and they start its header clock.

Connections are accepted a few at a time (each holds a descriptor until it is refused),
while the kernel may queue many (a queued connection costs the process nothing, and a full
queue drops a probe's connection attempt for a second).
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 64
"""Plenty for an orchestrator's probes and a few scrapers; fewer where the process may open
few files (`GuardLimits.within`)."""
LISTEN_QUEUE = 1024
"""Connections the kernel may hold for the listener before it is asked for them (the system
may cap this, e.g. at net.core.somaxconn)."""
REPORT_EVERY = 60.0
"""Real seconds between two warnings about connections the guard closed."""


@dataclass(frozen=True, slots=True)
class GuardLimits:
    max_connections: int = MAX_CONNECTIONS
    """Connections held at once."""
    header_seconds: float = 5.0
    """From a request's first byte (or the connection's opening) to the end of its headers."""
    idle_seconds: float = 5.0
    """A keep-alive connection with no request under way is closed after this (aiohttp)."""
    lifetime_seconds: float = 30.0
    max_request_bytes: int = 8192
    """A request line and its headers; aiohttp also refuses a line or field over its limits."""
    grace_seconds: float = 0.25
    """A connection that has sent nothing is not closed to make room before this."""

    @classmethod
    def within(cls, open_files: int) -> GuardLimits:
        """Limits that leave the bot at least 7/8 of the `open_files` it may hold: the
        connections held and those being accepted take at most 1/8 (`descriptors`)."""
        return cls(max_connections=max(1, min(MAX_CONNECTIONS, open_files // 16)))

    @property
    def accept_batch(self) -> int:
        """Connections accepted in one go, before the guard has seen any of them."""
        return max(1, self.max_connections // 4)

    @property
    def descriptors(self) -> int:
        """The most descriptors the health port holds: its connections, and a few batches
        accepted but not yet refused."""
        return self.max_connections + 4 * self.accept_batch


HEADERS_END = re.compile(rb"[^\r\n]\r?\n\r?\n")
"""The last header line's last byte, its line end and the blank line after it (lines end in
CRLF or a bare LF, as aiohttp's parser accepts). A blank line after nothing ends nothing."""
KEPT = 4
"""Bytes kept from one read to the next: a match is at most 5 bytes long."""


def headers_end(data: bytes, start: int) -> int:
    """Where the last end of headers in `data` ends, if that is after `start`; else -1."""
    end = -1
    for match in HEADERS_END.finditer(data):
        end = match.end()
    return end if end > start else -1


@dataclass
class Refusals:
    """What the guard closed since it last said so."""

    refused: int = 0
    evicted: int = 0
    too_slow: int = 0
    too_large: int = 0
    last_report: float | None = None

    def report(self, now: float, limits: GuardLimits) -> None:
        if self.last_report is not None and now - self.last_report < REPORT_EVERY:
            return
        log.warning(
            "health endpoint: %d connections refused at its limit of %d, %d closed to make "
            "room (they had waited longest for their headers), %d closed whose headers took "
            "over %g s, %d closed that sent over %d bytes (said at most once a minute)",
            self.refused,
            limits.max_connections,
            self.evicted,
            self.too_slow,
            limits.header_seconds,
            self.too_large,
            limits.max_request_bytes,
        )
        self.refused = self.evicted = self.too_slow = self.too_large = 0
        self.last_report = now


@dataclass(eq=False)
class ConnectionGuard:
    """The connections of one listener: how many, and which wait for their headers."""

    limits: GuardLimits
    refusals: Refusals = field(default_factory=Refusals)
    _open: set[GuardedProtocol] = field(default_factory=set)
    _waiting: dict[GuardedProtocol, None] = field(default_factory=dict)
    """Connections whose request headers are incomplete, the longest waiting first."""

    def protocol(self, inner: Callable[[], asyncio.Protocol]) -> GuardedProtocol:
        return GuardedProtocol(self, inner)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def admit(self, connection: GuardedProtocol, now: float) -> bool:
        if len(self._open) >= self.limits.max_connections:
            spared_since = now - self.limits.grace_seconds
            oldest = next((c for c in self._waiting if c.evictable(spared_since)), None)
            if oldest is None:
                self.refusals.refused += 1
                self._report()
                return False
            self.refusals.evicted += 1
            self.forget(oldest)
            oldest.abort()
            self._report()
        self._open.add(connection)
        return True

    def waiting(self, connection: GuardedProtocol, waits: bool) -> None:
        self._waiting.pop(connection, None)
        if waits and connection in self._open:
            self._waiting[connection] = None

    def forget(self, connection: GuardedProtocol) -> None:
        self._open.discard(connection)
        self._waiting.pop(connection, None)

    def closed_slow(self, *, too_large: bool) -> None:
        if too_large:
            self.refusals.too_large += 1
        else:
            self.refusals.too_slow += 1
        self._report()

    def _report(self) -> None:
        self.refusals.report(asyncio.get_running_loop().time(), self.limits)


class GuardedProtocol(asyncio.Protocol):
    """One connection: aiohttp's handler inside, made only once the guard admits it."""

    def __init__(self, guard: ConnectionGuard, make_inner: Callable[[], asyncio.Protocol]):
        self._guard = guard
        self._make_inner = make_inner
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._header_timer: asyncio.TimerHandle | None = None
        self._lifetime: asyncio.TimerHandle | None = None
        self._pending = 0
        """Bytes since the last end of headers (or the opening)."""
        self._tail = b""
        self.opened_at = 0.0
        self._looked = False
        """The loop has polled the connection for input once since it opened."""

    def evictable(self, opened_by: float) -> bool:
        """May be closed to make room: some of its request has come, or nothing has though
        the loop has looked and it opened by `opened_by`."""
        return self._pending > 0 or (self._looked and self.opened_at <= opened_by)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        loop = asyncio.get_running_loop()
        self.opened_at = loop.time()
        if not self._guard.admit(self, self.opened_at):
            transport.abort()
            return
        # The transport starts reading in this turn of the loop; the next polls for input and
        # runs first what is scheduled now, so two hops land after anything that came.
        loop.call_soon(loop.call_soon, self._has_been_looked_at)
        self._lifetime = loop.call_later(self._guard.limits.lifetime_seconds, self.abort)
        self._await_headers()
        self._inner = self._make_inner()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return
        scanned = self._tail + data
        end = headers_end(scanned, len(self._tail))
        self._tail = scanned[-KEPT:]
        if end >= 0:
            self._pending = len(scanned) - end
            self._headers_done()
        else:
            self._pending += len(data)
        if self._pending > self._guard.limits.max_request_bytes:
            self._guard.closed_slow(too_large=True)
            self.abort()
            return
        if self._pending and self._header_timer is None:
            self._await_headers()
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.forget(self)
        self._headers_done()
        if self._lifetime is not None:
            self._lifetime.cancel()
        inner, self._inner = self._inner, None
        if inner is not None:
            inner.connection_lost(exc)

    def _has_been_looked_at(self) -> None:
        self._looked = True

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _await_headers(self) -> None:
        loop = asyncio.get_running_loop()
        self._header_timer = loop.call_later(self._guard.limits.header_seconds, self._too_slow)
        self._guard.waiting(self, True)

    def _headers_done(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self._guard.waiting(self, False)

    def _too_slow(self) -> None:
        self._header_timer = None
        self._guard.closed_slow(too_large=False)
        self.abort()


class GuardedSite(web.BaseSite):
    """aiohttp's TCP site, with every connection behind the guard."""

    __slots__ = ("_guard", "_host", "_port")

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard):
        super().__init__(runner, backlog=guard.limits.accept_batch)
        self._host = host
        self._port = port
        self._guard = guard

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: self._guard.protocol(server),
            self._host,
            self._port,
            backlog=self._backlog,
        )
        # asyncio listens with the batch size as the kernel's queue: lengthen the queue alone
        for listening in self._server.sockets:
            with socket.fromfd(listening.fileno(), listening.family, listening.type) as same:
                same.listen(LISTEN_QUEUE)
