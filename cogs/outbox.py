"""Per-channel pacing of what the bot posts, so busy channels stay under Discord's limits.

Discord lets a bot create or edit about five messages per five seconds in one channel.
Each channel gets one lane: urgent sends always go first, and among them the ones marked
`first` (deliveries, failure notices) go ahead of new status messages; status edits are
coalesced per message (only the newest version is sent), and the lane waits `interval`
seconds between operations. Thirty jobs in one channel then cost a
steady trickle of edits instead of a burst of 429s.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[], Awaitable[Any]]


@dataclass(slots=True)
class _Lane:
    first: deque[tuple[Operation, asyncio.Future[Any]]] = field(default_factory=deque)
    urgent: deque[tuple[Operation, asyncio.Future[Any]]] = field(default_factory=deque)
    edits: OrderedDict[int, Operation] = field(default_factory=OrderedDict)
    task: asyncio.Task[None] | None = None


class ChannelOutbox:
    def __init__(self, *, interval: float = 1.05) -> None:
        self.interval = interval
        self._lanes: dict[int, _Lane] = {}
        self._closed = False

    def edit(self, channel_id: int, key: int, operation: Operation) -> None:
        """Queue an edit; a newer edit with the same key replaces it but keeps its place."""
        if self._closed:
            return
        lane = self._lane(channel_id)
        lane.edits[key] = operation
        self._wake(channel_id, lane)

    async def send(
        self, channel_id: int, operation: Callable[[], Awaitable[T]], *, first: bool = False
    ) -> T:
        """Run an urgent operation ahead of every queued edit and return its result.

        `first` puts it ahead of other urgent sends too: a finished video should not wait
        behind a burst of new jobs' status messages in a busy channel.
        """
        if self._closed:
            raise RuntimeError("the outbox is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        lane = self._lane(channel_id)
        (lane.first if first else lane.urgent).append((operation, future))
        self._wake(channel_id, lane)
        return await future

    def pending_edits(self) -> int:
        return sum(len(lane.edits) for lane in self._lanes.values())

    async def close(self) -> None:
        self._closed = True
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for lane in self._lanes.values():
            for _, future in (*lane.first, *lane.urgent):
                if not future.done():
                    future.cancel()
        self._lanes.clear()

    def _lane(self, channel_id: int) -> _Lane:
        lane = self._lanes.get(channel_id)
        if lane is None:
            lane = self._lanes[channel_id] = _Lane()
        return lane

    def _wake(self, channel_id: int, lane: _Lane) -> None:
        if lane.task is None:
            lane.task = asyncio.create_task(
                self._drain(channel_id, lane), name=f"outbox-{channel_id}"
            )

    async def _drain(self, channel_id: int, lane: _Lane) -> None:
        try:
            while lane.first or lane.urgent or lane.edits:
                if lane.first or lane.urgent:
                    operation, future = (lane.first or lane.urgent).popleft()
                    if future.cancelled():
                        continue
                    try:
                        future.set_result(await operation())
                    except asyncio.CancelledError:
                        future.cancel()
                        raise
                    except Exception as error:
                        future.set_exception(error)
                else:
                    _, operation = lane.edits.popitem(last=False)
                    try:
                        await operation()
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("a queued edit in channel %d failed", channel_id)
                await asyncio.sleep(self.interval)
        finally:
            lane.task = None
            idle = not lane.first and not lane.urgent and not lane.edits
            if idle and self._lanes.get(channel_id) is lane:
                del self._lanes[channel_id]
