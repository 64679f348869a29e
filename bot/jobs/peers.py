"""Asking the other processes that share the jobs to act on the jobs they hold.

A job is acted on only by the process holding it (see `bot.jobs.leases`), but a button
can be pressed, or a server left, in any process. The tracker then asks its peers: a
request goes to every process, the holder acts on it and answers. One process on its own
database has no peers (`NoPeers`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Message = dict[str, Any]
"""A request or an answer: plain JSON values."""

Handler = Callable[[Message], Awaitable[Message | None]]
"""Acts on a peer's request; returns the answer, or None when this process does not hold
the job (someone else will answer)."""


class JobPeers(Protocol):
    async def start(self, handler: Handler) -> None:
        """Start answering peers' requests with `handler`."""

    async def ask(self, request: Message, *, within: float) -> Message | None:
        """Send a request to every peer; the first answer, or None if none came in time."""

    async def tell(self, request: Message) -> None:
        """Send a request to every peer, wanting no answer."""

    async def keep_listening(self) -> None:
        """Reconnect if the way peers reach this process was lost."""

    async def close(self) -> None: ...


class NoPeers:
    """Nobody else shares the jobs: nobody to ask."""

    async def start(self, handler: Handler) -> None:
        return None

    async def ask(self, request: Message, *, within: float) -> Message | None:
        return None

    async def tell(self, request: Message) -> None:
        return None

    async def keep_listening(self) -> None:
        return None

    async def close(self) -> None:
        return None
