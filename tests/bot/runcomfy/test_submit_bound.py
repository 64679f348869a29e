"""A paid submit takes at most the client's connect and read timeouts together, however its
answer trickles in: a process that takes the job over waits that long, no longer, before
calling it "may have been sent" (`bot.jobs.recovery`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.clock import ScaledClock
from bot.runcomfy.client import SUBMIT_PATH, RunComfyClient
from bot.runcomfy.errors import SubmitOutcomeUnknownError
from bot.runcomfy.request import KlingRequest
from bot.secret import Secret

ANSWER = b'{"request_id": "trickled-1", "status_url": "", "result_url": "", "cancel_url": ""}'


@pytest.fixture
async def trickling() -> AsyncIterator[str]:
    """A RunComfy that answers a submit one byte every 0.2 s: never quiet for a read
    timeout, yet seconds in all."""

    async def submit(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for byte in ANSWER:
            await response.write(bytes([byte]))
            await asyncio.sleep(0.2)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post(SUBMIT_PATH, submit)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_trickling_submit_ends_unknown_once_connect_and_read_timeouts_pass(
    trickling: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = RunComfyClient(
            session,
            base_url=trickling,
            token=Secret("token"),
            clock=ScaledClock(1.0),
            connect_timeout=0.5,
            read_timeout=1.0,
        )
        started = time.monotonic()
        with pytest.raises(SubmitOutcomeUnknownError):
            await client.submit(KlingRequest(prompt="a fox"))
        took = time.monotonic() - started
    assert took < 1.5 + 1.0, f"the submit took {took:.1f} s"
