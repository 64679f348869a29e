"""Fitting videos, and reading the ones only FFmpeg can read, from async code: in worker
processes that cannot stall or grow the bot.

Why a process and not a thread: decoding and encoding with PyAV hold the GIL for part of
every frame (the Python loop around the codec calls, frame objects, muxing), so a fit in
a thread would steal time from the event loop for the whole encode, delaying heartbeats
and interaction replies. A separate process has its own interpreter, its own memory
limit, and can be killed outright when it runs over its time, which a thread cannot. One
fresh process per job (rather than a pool) means a timed-out or cancelled job is killed
without disturbing the others, and the memory of a 1080p encode is returned to the system
afterwards. The bot process itself never loads FFmpeg.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.media.errors import FitFailed, FitTimedOut, MediaError
from bot.media.fit_protocol import (
    FitProgress,
    FitRequest,
    FitResult,
    ProbeRequest,
    ProgressCallback,
    WorkerLimits,
    parse_line,
    partial_path,
    remove_quietly,
)
from bot.media.limits import MediaLimits
from bot.media.plan import FitSettings
from bot.media.probe import DEFAULT_LIMITS, MediaFacts

logger = logging.getLogger(__name__)

WORKER_COMMAND = (sys.executable, "-m", "bot.media.fit_worker")
WORKER_MEMORY_BYTES = 1024 * 1024 * 1024
"""Address space (`RLIMIT_AS`) a worker may map. Measured on two cores: fitting a 15 s
1080p video maps at most 0.58 GiB (0.17 GiB resident), a 3 s 4K one 0.68 GiB (0.36 GiB
resident); threads are capped (`FitSettings.max_threads`), so more cores add little."""
WORKER_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2"}
"""glibc reserves 64 MiB of address space per thread arena; two arenas are plenty for a
worker whose threads are FFmpeg's, and keep its mapped size near its real use."""
PROBE_TIME_LIMIT_SECONDS = 30.0
"""Reading a Kling-sized file with FFmpeg takes well under a second."""


class VideoFitter:
    """Runs `fit_to_limit` (and FFmpeg probes) in worker processes, at most
    `max_parallel` fits and one probe at a time.

    `niceness` lowers the workers' CPU priority so the bot itself stays responsive while
    they encode on the same cores. `kill_grace_seconds` is how long past its time limit a
    worker gets to stop by itself (and clean up) before it is killed. `memory_bytes`
    limits each worker's address space (None: no limit); `limits` are the media limits
    the workers hold files to.
    """

    def __init__(
        self,
        *,
        max_parallel: int = 1,
        settings: FitSettings | None = None,
        niceness: int = 5,
        kill_grace_seconds: float = 2.0,
        command: Sequence[str] = WORKER_COMMAND,
        memory_bytes: int | None = WORKER_MEMORY_BYTES,
        limits: MediaLimits = DEFAULT_LIMITS,
        probe_time_limit_seconds: float = PROBE_TIME_LIMIT_SECONDS,
    ) -> None:
        if max_parallel < 1:
            raise ValueError("max_parallel must be at least 1")
        self._slots = asyncio.Semaphore(max_parallel)
        self._probing = asyncio.Semaphore(1)
        self._settings = settings or FitSettings()
        self._worker = WorkerLimits(memory_bytes=memory_bytes, niceness=niceness, media=limits)
        self._kill_grace = kill_grace_seconds
        self._command = tuple(command)
        self._probe_time_limit = probe_time_limit_seconds

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
            worker=self._worker,
        )
        async with self._slots:
            try:
                outcome = await self._run(request, time_limit_seconds, on_progress)
            finally:
                remove_quietly(partial_path(destination))
        if not isinstance(outcome, FitResult):
            raise FitFailed("The re-encoding worker answered a fit with facts.")
        return outcome

    async def probe(self, source: Path) -> MediaFacts:
        """`source`'s facts, read by FFmpeg in a worker (for a file that is not an MP4).

        Raises the `MediaError` the worker reported (`BeyondLimits` among them), or
        `FitTimedOut`/`FitFailed` when it ran over its time or died.
        """
        request = ProbeRequest(source=source, worker=self._worker)
        async with self._probing:
            outcome = await self._run(request, self._probe_time_limit, None)
        if not isinstance(outcome, MediaFacts):
            raise FitFailed("The worker answered a probe with a fitted video.")
        return outcome

    async def _run(
        self,
        request: FitRequest | ProbeRequest,
        time_limit: float,
        on_progress: ProgressCallback | None,
    ) -> FitResult | MediaFacts:
        try:
            worker = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ, **WORKER_ENVIRONMENT},
            )
        except OSError as error:
            raise FitFailed("The media worker could not be started.") from error
        answered = False
        try:
            try:
                async with asyncio.timeout(time_limit + self._kill_grace):
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
            if not answered and isinstance(request, FitRequest):
                # Stopped mid-way: it may have renamed its result just before.
                remove_quietly(request.destination)
        if isinstance(outcome, MediaError):
            raise outcome
        return outcome

    async def _converse(
        self,
        worker: asyncio.subprocess.Process,
        request: FitRequest | ProbeRequest,
        on_progress: ProgressCallback | None,
    ) -> FitResult | MediaFacts | MediaError:
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
        return FitFailed(f"The media worker stopped without an answer (exit code {code}).")

    @staticmethod
    def _tell(on_progress: ProgressCallback, progress: FitProgress) -> None:
        """A broken progress display must not break the fit."""
        try:
            on_progress(progress)
        except Exception:
            logger.exception("fit progress callback failed")
