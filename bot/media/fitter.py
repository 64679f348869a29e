"""Fitting videos from async code without stalling the bot.

Why a process and not a thread: decoding and encoding with PyAV hold the GIL for part of
every frame (the Python loop around the codec calls, frame objects, muxing), so a fit in
a thread would steal time from the event loop for the whole encode, delaying heartbeats
and interaction replies. A separate process has its own interpreter and can be killed
outright when it runs over its time, which a thread cannot. One fresh process per fit
(rather than a pool) means a timed-out or cancelled fit is killed without disturbing the
others, and the memory of a 1080p encode is returned to the system afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.media.errors import FitFailed, FitTimedOut, MediaError
from bot.media.fit import FitProgress, FitResult, ProgressCallback, partial_path, remove_quietly
from bot.media.fit_protocol import FitRequest, parse_line
from bot.media.plan import FitSettings

logger = logging.getLogger(__name__)

WORKER_COMMAND = (sys.executable, "-m", "bot.media.fit_worker")


class VideoFitter:
    """Runs `fit_to_limit` in worker processes, at most `max_parallel` at a time.

    `niceness` lowers the workers' CPU priority so the bot itself stays responsive while
    they encode on the same cores. `kill_grace_seconds` is how long past its time limit a
    worker gets to stop by itself (and clean up) before it is killed.
    """

    def __init__(
        self,
        *,
        max_parallel: int = 1,
        settings: FitSettings | None = None,
        niceness: int = 5,
        kill_grace_seconds: float = 2.0,
        command: Sequence[str] = WORKER_COMMAND,
    ) -> None:
        if max_parallel < 1:
            raise ValueError("max_parallel must be at least 1")
        self._slots = asyncio.Semaphore(max_parallel)
        self._settings = settings or FitSettings()
        self._niceness = niceness
        self._kill_grace = kill_grace_seconds
        self._command = tuple(command)

    async def fit(
        self,
        source: Path,
        destination: Path,
        *,
        limit_bytes: int,
        time_limit_seconds: float,
        on_progress: ProgressCallback | None = None,
    ) -> FitResult:
        """Fit `source` under `limit_bytes` into `destination`; see `fit_to_limit`.

        Waits for a free slot first; `time_limit_seconds` counts from when the worker
        starts, not the wait. `on_progress` is called on the event loop, first with a
        "started" event (show "re-encoding…" then); it must not block. Raises the
        `MediaError` the worker reported, `FitTimedOut` when it was killed for time, or
        `FitFailed` when it died. Cancelling kills the worker; nothing partial is left.
        """
        request = FitRequest(
            source=source,
            destination=destination,
            limit_bytes=limit_bytes,
            time_limit_seconds=time_limit_seconds,
            settings=self._settings,
            niceness=self._niceness,
        )
        async with self._slots:
            return await self._run(request, on_progress)

    async def _run(self, request: FitRequest, on_progress: ProgressCallback | None) -> FitResult:
        try:
            worker = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        except OSError as error:
            raise FitFailed("The re-encoding worker could not be started.") from error
        answered = False
        try:
            try:
                async with asyncio.timeout(request.time_limit_seconds + self._kill_grace):
                    outcome = await self._converse(worker, request, on_progress)
            except TimeoutError:
                raise FitTimedOut() from None
            answered = True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._kill_grace):
                    await worker.wait()
        finally:
            if worker.returncode is None:
                worker.kill()
                await asyncio.shield(worker.wait())
            remove_quietly(partial_path(request.destination))
            if not answered:
                # Stopped mid-way: it may have renamed its result just before.
                remove_quietly(request.destination)
        if isinstance(outcome, MediaError):
            raise outcome
        return outcome

    async def _converse(
        self,
        worker: asyncio.subprocess.Process,
        request: FitRequest,
        on_progress: ProgressCallback | None,
    ) -> FitResult | MediaError:
        assert worker.stdin is not None
        assert worker.stdout is not None
        worker.stdin.write(request.to_json().encode())
        await worker.stdin.drain()
        worker.stdin.close()
        while line := await worker.stdout.readline():
            event = parse_line(line)
            if not isinstance(event, FitProgress):
                return event
            if on_progress is not None:
                self._tell(on_progress, event)
        code = await worker.wait()
        return FitFailed(f"The re-encoding worker stopped without an answer (exit code {code}).")

    @staticmethod
    def _tell(on_progress: ProgressCallback, progress: FitProgress) -> None:
        """A broken progress display must not break the fit."""
        try:
            on_progress(progress)
        except Exception:
            logger.exception("fit progress callback failed")
