"""`RunComfyEmulator`: the test-facing API over the job board, the fault knobs, the
traffic records and the HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from aiohttp import web
from aiohttp.log import access_logger

from bot.clock import Clock, ScaledClock

from .contract import IN_QUEUE, Endpoint
from .faults import FaultKnobs
from .jobs import EmulatedJob, JobOutcome, default_generation_time
from .routes import ApiRoutes
from .simulation import JobBoard, OutcomeRule, Timing
from .traffic import RequestRecord, Traffic
from .video import Video


class RunComfyEmulator(FaultKnobs):
    """The fake API server. Use as `async with RunComfyEmulator(...) as emulator:`."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        token: str | None = None,
        workers: int = 2,
        generation_time: Timing = default_generation_time,
        queue_delay: Timing | None = None,
        outcome: OutcomeRule | Sequence[JobOutcome] | None = None,
        video_size: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
        record_requests: bool = True,
    ) -> None:
        super().__init__()
        self.clock: Clock = clock if clock is not None else ScaledClock(1.0)
        self.board = JobBoard(
            self.clock,
            workers=workers,
            generation_time=generation_time,
            queue_delay=queue_delay,
            outcome=outcome,
        )
        self.token = token if token is not None else "rc-test-" + secrets.token_urlsafe(18)
        self.video_size = video_size
        self.host = host
        self._port = port
        self._access_log = access_log
        self.traffic = Traffic(record_requests=record_requests)
        self._expired: set[str] = set()
        self._all_expired = False
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self._app = ApiRoutes(self).app()

    def __repr__(self) -> str:
        return f"RunComfyEmulator(base_url={self.base_url!r}, jobs={len(self.board.jobs)})"

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on `host` (a random free port unless one was given); sets `base_url`."""
        if self._runner is not None:
            return
        self._closing.clear()
        runner = web.AppRunner(
            self._app,
            handler_cancellation=True,
            shutdown_timeout=1.0,
            access_log=access_logger if self._access_log else None,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{port}"

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> RunComfyEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def wait_real(self, seconds: float) -> None:
        """Sleep `seconds` real seconds, or less if the emulator closes meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)

    # ------------------------------------------------------------ introspection

    @property
    def workers(self) -> int:
        return self.board.workers

    @property
    def generation_time(self) -> Timing:
        return self.board.generation_time

    @property
    def queue_delay(self) -> Timing | None:
        return self.board.queue_delay

    @property
    def requests(self) -> list[RequestRecord]:
        return self.traffic.requests

    @property
    def counts(self) -> Counter[Endpoint]:
        return self.traffic.counts

    @property
    def record_requests(self) -> bool:
        return self.traffic.record_requests

    def count(self, endpoint: Endpoint) -> int:
        """Requests received by `endpoint`, faulted ones included."""
        return self.counts[endpoint]

    async def wait_for_requests(self, endpoint: Endpoint, count: int) -> None:
        """Wait until `endpoint` has received `count` requests (wrap it in a timeout)."""
        await self.traffic.wait_for(endpoint, count)

    @property
    def submit_count(self) -> int:
        return self.counts[Endpoint.SUBMIT]

    def advance(self) -> None:
        """Bring every job up to `clock.now()` (every request does this first)."""
        self.board.advance()

    @property
    def jobs(self) -> Mapping[str, EmulatedJob]:
        """Every job created, in submit order, simulated up to now."""
        self.board.advance()
        return MappingProxyType(self.board.jobs)

    def job(self, request_id: str) -> EmulatedJob:
        self.board.advance()
        return self.board.jobs[request_id]

    def queue_position(self, request_id: str) -> int | None:
        """Jobs ahead of this one in the queue (0 = next to start); None if not queued.

        "Ahead" means submitted earlier and still queued; with `queue_delay` a job behind
        may still start first.
        """
        job = self.job(request_id)
        if job.status != IN_QUEUE:
            return None
        return self.board.jobs_ahead(job)

    @property
    def queued_count(self) -> int:
        self.board.advance()
        return self.board.queued_count

    @property
    def running_count(self) -> int:
        self.board.advance()
        return self.board.running_count

    def output_url(self, request_id: str) -> str:
        return f"{self.base_url}/files/{request_id}.mp4"

    def video_for(self, job: EmulatedJob) -> Video:
        """The video served for the job: its outcome's bytes and size, else the defaults."""
        size = job.outcome.video_size if job.outcome.video_size is not None else self.video_size
        if job.outcome.video_data is not None:
            return Video(size, job.outcome.video_data)
        return Video(size)

    def video_bytes(self, request_id: str | None = None) -> bytes:
        """The exact bytes served for a job's video (the sample MP4 unless padded)."""
        video = self.video_for(self.board.jobs[request_id]) if request_id else Video(None)
        return video.content()

    def is_expired(self, request_id: str) -> bool:
        return self._all_expired or request_id in self._expired

    # ---------------------------------------------------------------- scripting

    def script_outcomes(self, *outcomes: JobOutcome) -> None:
        """Outcomes for the next submits, in order; afterwards the default applies again."""
        self.board.script(outcomes)

    def set_outcome(self, request_id: str, outcome: JobOutcome) -> None:
        """Change how a job that has not finished yet will end."""
        job = self.job(request_id)
        if job.finished_at is not None:
            raise ValueError(f"job {request_id} has already finished")
        job.outcome = outcome

    def set_workers(self, workers: int) -> None:
        """Change how many jobs generate at once; extra queued jobs start right away."""
        self.board.set_workers(workers)

    def finish_generating(self, request_id: str) -> None:
        """A job that is generating finishes now (one held generating for a long time)."""
        job = self.job(request_id)
        if job.started_at is None or job.finished_at is not None:
            raise ValueError(f"job {request_id} is not generating")
        self.board.finish_now(job)

    def expire(self, request_id: str | None = None) -> None:
        """Answer 404 / 404001 for this request id on status, result and cancel (None: all)."""
        if request_id is None:
            self._all_expired = True
        else:
            self._expired.add(request_id)

    def unexpire(self) -> None:
        self._expired.clear()
        self._all_expired = False
