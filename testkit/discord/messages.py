"""The message store: messages by id and channel, nonce memory, and indexed waiters."""

# Waits take an explicit ``timeout`` so a failing test names what it waited for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .records import FakeMessage

MessagePredicate = Callable[[FakeMessage], bool]


@dataclass(eq=False)
class _Waiter:
    predicate: MessagePredicate
    future: asyncio.Future[FakeMessage]


class MessageStore:
    """Keeps every message (deleted ones flagged, never dropped) and wakes matching waiters.

    Waiters are indexed by channel and by message id, so a change only runs the predicates
    of waiters that watch it.
    """

    def __init__(self, nonce_window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.nonce_window = nonce_window
        self._clock = clock
        self.by_id: dict[int, FakeMessage] = {}
        self.by_channel: dict[int, list[FakeMessage]] = defaultdict(list)
        self._nonces: dict[tuple[int, int, str], tuple[FakeMessage, float]] = {}
        self._channel_waiters: dict[int, list[_Waiter]] = defaultdict(list)
        self._message_waiters: dict[int, list[_Waiter]] = defaultdict(list)
        self._listeners: list[Callable[[FakeMessage], None]] = []

    def get(self, message_id: int) -> FakeMessage | None:
        return self.by_id.get(message_id)

    def live(self, message_id: int) -> FakeMessage | None:
        message = self.by_id.get(message_id)
        return None if message is None or message.deleted else message

    def channel(
        self, channel_id: int, *, include_deleted: bool = False, include_ephemeral: bool = True
    ) -> list[FakeMessage]:
        return [
            m
            for m in self.by_channel.get(channel_id, [])
            if (include_deleted or not m.deleted) and (include_ephemeral or not m.ephemeral)
        ]

    def add(self, message: FakeMessage) -> None:
        self.by_id[message.id] = message
        self.by_channel[message.channel_id].append(message)
        for listener in self._listeners:
            listener(message)
        self.changed(message)

    def add_listener(self, listener: Callable[[FakeMessage], None]) -> None:
        """Call `listener` with every new message, synchronously, as it is stored."""
        self._listeners.append(listener)

    def changed(self, message: FakeMessage) -> None:
        """Run the predicates of waiters watching this message or its channel."""
        for index in (self._message_waiters, self._channel_waiters):
            key = message.id if index is self._message_waiters else message.channel_id
            waiters = index.get(key)
            if not waiters:
                continue
            remaining = []
            for waiter in waiters:
                if waiter.future.done():
                    continue
                if not message.deleted and waiter.predicate(message):
                    waiter.future.set_result(message)
                else:
                    remaining.append(waiter)
            index[key] = remaining

    def remember_nonce(self, message: FakeMessage, nonce: str) -> None:
        self._nonces[(message.channel_id, message.author.id, nonce)] = (message, self._clock())

    def recall_nonce(self, channel_id: int, author_id: int, nonce: str) -> FakeMessage | None:
        """The earlier message created with this nonce by this author, within the window."""
        found = self._nonces.get((channel_id, author_id, nonce))
        if found is None:
            return None
        message, at = found
        if self._clock() - at > self.nonce_window:
            del self._nonces[(channel_id, author_id, nonce)]
            return None
        return message

    async def wait_in_channel(
        self, channel_id: int, predicate: MessagePredicate, timeout: float
    ) -> FakeMessage:
        for message in self.channel(channel_id):
            if predicate(message):
                return message
        return await self._wait(
            self._channel_waiters[channel_id],
            predicate,
            timeout,
            lambda: (
                f"a matching message in channel {channel_id}; have: "
                + _summaries(self.channel(channel_id))
            ),
        )

    async def wait_on_message(
        self, message_id: int, predicate: MessagePredicate, timeout: float
    ) -> FakeMessage:
        message = self.live(message_id)
        if message is not None and predicate(message):
            return message
        return await self._wait(
            self._message_waiters[message_id],
            predicate,
            timeout,
            lambda: (
                f"message {message_id} to match; now: "
                + _summaries([m] if (m := self.get(message_id)) else [])
            ),
        )

    async def _wait(
        self,
        waiters: list[_Waiter],
        predicate: MessagePredicate,
        timeout: float,
        describe: Callable[[], str],
    ) -> FakeMessage:
        waiter = _Waiter(predicate, asyncio.get_running_loop().create_future())
        waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout:.2f}s waiting for {describe()}") from None


def _summaries(messages: list[FakeMessage]) -> str:
    if not messages:
        return "no messages"
    return "; ".join(
        f"[{m.id}{' deleted' if m.deleted else ''}] {m.text[:60]!r}"
        + (f" +{len(m.attachments)} files" if m.attachments else "")
        + (f" ids={m.custom_ids}" if m.custom_ids else "")
        for m in messages[-10:]
    )
