"""Waiting for asynchronous outcomes in tests, in real seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(
    condition: Callable[[], bool], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Wait until `condition()` holds; fail naming `what` after `within` real seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)
