"""The sessions' timer keeps going whatever reading the store throws, and looks at a
session when it is due."""

from __future__ import annotations

import logging

import pytest

from bot.clock import ScaledClock
from bot.sessions.timer import SessionTimer
from testkit.waiting import eventually


async def test_an_unexpected_error_reading_the_store_is_logged_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ScaledClock(1000)
    reads = 0
    looked: list[int] = []

    async def refresh() -> list[int]:
        nonlocal reads
        reads += 1
        if reads == 1:
            raise ValueError("a row the code did not expect")
        return [7]

    async def advance(session_id: int) -> float | None:
        looked.append(session_id)
        return None

    timer = SessionTimer(clock, advance=advance, refresh=refresh, recheck=60.0, retry=5.0)
    timer.start()
    try:
        await eventually(lambda: looked == [7], within=5, what="the session looked at")
        assert timer.is_alive()
        assert "could not read the unfinished sessions" in caplog.text
        assert any(record.levelno == logging.ERROR for record in caplog.records)
    finally:
        await timer.close()
