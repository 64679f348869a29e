"""A grace period for work under way: wait until it is done, the time is up, or someone
says to hurry. Shared by the bot's stop (commands and buttons being answered) and the
tracker's (submits and final messages), so both end the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def let_finish(
    tasks: Iterable[asyncio.Task[Any]], *, within: float, hurry: asyncio.Event
) -> set[asyncio.Task[Any]]:
    """Wait for `tasks` for up to `within` real seconds, or until `hurry` is set; returns
    those still running (the caller decides what to do with them)."""
    pending = {task for task in tasks if not task.done()}
    if not pending or hurry.is_set():
        return pending
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    hurried = asyncio.create_task(hurry.wait(), name="grace-hurry")
    try:
        while pending and not hurried.done():
            left = deadline - loop.time()
            if left <= 0:
                break
            await asyncio.wait(
                {*pending, hurried}, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            pending = {task for task in pending if not task.done()}
    finally:
        hurried.cancel()
    return pending
