"""Waiting helpers: condition waits that fail with a readable message instead of hanging."""

# Waits take an explicit ``timeout`` so a failing test names what it waited for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Signal:
    """Wakes every waiter when something changes; each waiter re-checks its own condition.

    Meant for objects with few waiters (one interaction, the gateway); message waits use the
    indexed waiters in ``messages.py`` so 1,000 pending waits don't each rescan history.
    """

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(
        self, check: Callable[[], T | None], timeout: float, describe: Callable[[], str]
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:.2f}s waiting for {describe()}")
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                continue
