"""Per-channel pacing of what the bot posts, so busy channels stay under Discord's limits.

Discord lets a bot create or edit about five messages per five seconds in one channel.
Each channel gets one lane, which runs, in this order: sends marked `first` (deliveries,
failure notices), other sends (new status messages), `important` edits (a job changed
state) and plain edits (a queue position moved). Edits are coalesced per message, so
only the newest version is sent. A lane never starts more than `burst` operations in
any `burst * interval` seconds, a sliding window counted from when each operation ended
(the latest Discord may have counted it), and spaces the others `interval` apart; only a
`first` send may take the window's last slot, and it need not wait out the spacing, so
a finished video goes out at once even while a busy channel's status messages stream on.
Thirty jobs in one channel then cost a steady trickle of edits instead of 429s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_BURST = 4
"""Operations per window: one fewer than Discord's five, so the bucket never runs dry."""
Operation = Callable[[], Awaitable[Any]]


@dataclass(slots=True)
class _Lane:
    first: deque[tuple[Operation, asyncio.Future[Any]]] = field(default_factory=deque)
    urgent: deque[tuple[Operation, asyncio.Future[Any]]] = field(default_factory=deque)
    important: OrderedDict[int, Operation] = field(default_factory=OrderedDict)
    edits: OrderedDict[int, Operation] = field(default_factory=OrderedDict)
    finished: deque[tuple[float, bool]] = field(default_factory=deque)
    """When the lane's recent operations ended (monotonic), oldest first, and whether each
    was a `first` send."""
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> bool:
        return bool(self.first or self.urgent or self.important or self.edits)


class ChannelOutbox:
    def __init__(self, *, interval: float = 1.25, burst: int = DEFAULT_BURST) -> None:
        self.interval = interval
        self.burst = burst
        self.window = burst * interval
        self._lanes: dict[int, _Lane] = {}
        self._closed = False

    def edit(
        self, channel_id: int, key: int, operation: Operation, *, important: bool = False
    ) -> None:
        """Queue an edit; a newer edit with the same key replaces it but keeps its place
        (and its importance). The operation returns False when it sent nothing, so the
        lane does not spend a slot on it."""
        if self._closed:
            return
        lane = self._lane(channel_id)
        if important or key in lane.important:
            lane.edits.pop(key, None)
            lane.important[key] = operation
        else:
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
        return sum(len(lane.important) + len(lane.edits) for lane in self._lanes.values())

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
        lane.wakeup.set()
        if lane.task is None:
            lane.task = asyncio.create_task(
                self._drain(channel_id, lane), name=f"outbox-{channel_id}"
            )

    def _room(self, lane: _Lane) -> int:
        """Slots per window the next operation may count on. Others always leave one to
        `first` sends, and two while videos are being delivered, so a run of finished
        videos is not stretched out by new jobs' status messages."""
        if lane.first:
            return self.burst
        delivering = any(was_first for _, was_first in lane.finished)
        return max(1, self.burst - (2 if delivering else 1))

    def _wait_before_next(self, lane: _Lane, now: float) -> float:
        """Seconds until the lane may start its next operation (0: now)."""
        while lane.finished and lane.finished[0][0] <= now - self.window:
            lane.finished.popleft()
        wait = 0.0
        room = self._room(lane)
        if len(lane.finished) >= room:
            wait = lane.finished[-room][0] + self.window - now
        if lane.finished and not lane.first:
            wait = max(wait, lane.finished[-1][0] + self.interval - now)
        return wait

    async def _drain(self, channel_id: int, lane: _Lane) -> None:
        """Run the lane's operations in order and in pace; linger until its window is clear,
        so a new lane can never start on top of operations the old one just made."""
        try:
            while True:
                lane.wakeup.clear()
                now = time.monotonic()
                if lane.pending:
                    wait = self._wait_before_next(lane, now)
                elif lane.finished and lane.finished[-1][0] > now - self.window:
                    wait = lane.finished[-1][0] + self.window - now
                else:
                    return
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lane.wakeup.wait(), wait)
                    continue
                ran, was_first = True, bool(lane.first)
                try:
                    ran = await self._run_next(channel_id, lane)
                finally:
                    if ran:
                        lane.finished.append((time.monotonic(), was_first))
        finally:
            lane.task = None
            if not lane.pending and self._lanes.get(channel_id) is lane:
                del self._lanes[channel_id]

    async def _run_next(self, channel_id: int, lane: _Lane) -> bool:
        """Run the most urgent operation; False when it was dropped without running."""
        if lane.first or lane.urgent:
            operation, future = (lane.first or lane.urgent).popleft()
            if future.cancelled():
                return False
            try:
                result = await operation()
            except asyncio.CancelledError:
                future.cancel()
                raise
            except Exception as error:
                if not future.done():  # its sender may have stopped waiting meanwhile
                    future.set_exception(error)
                return True
            if not future.done():
                future.set_result(result)
            return True
        _, operation = (lane.important or lane.edits).popitem(last=False)
        try:
            sent = await operation()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a queued edit in channel %d failed", channel_id)
            return True
        return sent is not False
