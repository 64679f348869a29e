"""An in-repo RunComfy Model API for tests and benchmarks, on 127.0.0.1.

It follows the contract of `kling/kling-3.0/standard/text-to-video` (see the project's
RunComfy notes) without sharing code with the bot: inputs are checked by its own rules,
so a bug in the bot's validation shows up as a 422 here instead of passing silently.

Jobs move in_queue → in_progress → completed / failed / cancelled on a `Clock`, with
`workers` jobs generating at once, so queue positions are real. The simulation is lazy
and event driven: every request (and every read of `jobs`) advances it to
`clock.now()`, processing only the completions that happened since, so thousands of
jobs cost O(log n) per request and nothing runs between requests.

An optional `queue_delay(payload)` holds each job in the queue for at least that many
clock seconds before a worker may take it, for loads that need a per-job queue wait
(e.g. 0–60 s) independent of how many workers there are.

Fault knobs are queued per endpoint and consumed in order, one per request, e.g.
`rate_limit(Endpoint.STATUS, retry_after=2, times=3)` then `fail(Endpoint.STATUS, 502)`
answers the next three status calls with 429 and the fourth with 502.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import math
import secrets
import socket
import struct
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from aiohttp import web

from bot.clock import Clock, ScaledClock

ASSETS = Path(__file__).parent / "assets"
SAMPLE_MP4: bytes = (ASSETS / "sample.mp4.bin").read_bytes()
"""A real 1-second 64×36 H.264/AAC MP4 (ftyp, moov, free, mdat), made with ffmpeg.

Stored as `.mp4.bin` because the project's .gitignore ignores `*.mp4`."""

MODEL_ID = "kling/kling-3.0/standard/text-to-video"
SUBMIT_PATH = "/v1/models/" + MODEL_ID
PRICE_PER_SECOND = Decimal("0.084")
PRICE_PER_SECOND_WITH_SOUND = Decimal("0.126")
ASPECT_RATIOS = frozenset({"16:9", "9:16", "1:1"})
SHOT_TYPES = frozenset({"intelligent", "customize"})
INPUT_FIELDS = frozenset(
    {
        "prompt",
        "negative_prompt",
        "duration",
        "aspect_ratio",
        "cfg_scale",
        "sound",
        "shot_type",
        "multi_prompt",
    }
)
MAX_TEXT = 2500
MAX_SHOTS = 20
DEFAULT_DURATION = 5
CHUNK_BYTES = 256 * 1024
_ZEROS = bytes(CHUNK_BYTES)

IN_QUEUE = "in_queue"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"


class Endpoint(StrEnum):
    SUBMIT = "submit"
    STATUS = "status"
    RESULT = "result"
    CANCEL = "cancel"
    FILE = "file"


API_ENDPOINTS = (Endpoint.SUBMIT, Endpoint.STATUS, Endpoint.RESULT, Endpoint.CANCEL)


class ManualClock:
    """A `Clock` that moves only when told to (`advance`) or when something sleeps on it.

    Sleeping advances the time by the amount slept and returns at once, so a sequential
    client polling the emulator runs a "three-minute" job instantly and deterministically.
    """

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._origin = start
        self._elapsed = 0.0  # kept apart from the epoch so tiny steps are not rounded away

    def __repr__(self) -> str:
        return f"ManualClock(monotonic={self._elapsed:.3f})"

    def advance(self, seconds: float) -> None:
        self._elapsed += max(0.0, seconds)

    def now(self) -> float:
        return self._origin + self._elapsed

    def monotonic(self) -> float:
        return self._elapsed

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)

    async def wait_for(self, event: asyncio.Event, within: float) -> bool:
        await asyncio.sleep(0)
        if not event.is_set():
            self.advance(within)
        return event.is_set()

    def to_real(self, seconds: float) -> float:
        """Real timeouts derived from this clock stay as long as they say."""
        return seconds


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a job ends once generated: a video (optionally a large synthetic one, or the
    given bytes) or a failure."""

    kind: Literal["complete", "fail"] = "complete"
    error: str | None = None
    video_size: int | None = None
    video_data: bytes | None = None
    """Served instead of the sample MP4 (a real test video, or something that is not one)."""

    @classmethod
    def complete(
        cls, *, video_size: int | None = None, video_data: bytes | None = None
    ) -> JobOutcome:
        return cls("complete", None, video_size, video_data)

    @classmethod
    def fail(
        cls, message: str = "Generation failed: the model could not render this prompt."
    ) -> JobOutcome:
        return cls("fail", message, None)


def default_generation_time(payload: Mapping[str, Any]) -> float:
    """Clock seconds a job spends in_progress: 20 s plus 10 s per second of video."""
    duration = payload.get("duration", DEFAULT_DURATION)
    return 20.0 + 10.0 * (duration if isinstance(duration, int) else DEFAULT_DURATION)


@dataclass(slots=True, eq=False)
class EmulatedJob:
    """One job as the emulator sees it. Times are `clock.now()` values (epoch seconds)."""

    request_id: str
    seq: int
    payload: dict[str, Any]
    generation_time: float
    outcome: JobOutcome
    submitted_at: float
    queue_delay: float = 0.0
    """Clock seconds the job waits in the queue at least (the `queue_delay` knob)."""
    status: str = IN_QUEUE
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def duration(self) -> int:
        return int(self.payload.get("duration", DEFAULT_DURATION))

    @property
    def sound(self) -> bool:
        return bool(self.payload.get("sound", True))

    @property
    def cost(self) -> Decimal:
        rate = PRICE_PER_SECOND_WITH_SOUND if self.sound else PRICE_PER_SECOND
        return rate * self.duration


@dataclass(slots=True)
class RequestRecord:
    """One request as received; `http_status` is None until answered (and for resets)."""

    method: str
    path: str
    endpoint: Endpoint
    at: float
    request_id: str | None = None
    http_status: int | None = None
    fault: str | None = None


FaultKind = Literal["fail", "rate_limit", "slow", "reset", "non_json", "error_in_200", "stale"]


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    http_status: int = 500
    error_code: int | None = None
    message: str = ""
    retry_after: str | None = None
    seconds: float = 0.0
    after_processing: bool = False


@dataclass(slots=True)
class _QueuedFault:
    fault: Fault
    remaining: int | None


class _Fenwick:
    """Prefix sums over job sequence numbers (1 = queued), growable by appending."""

    def __init__(self) -> None:
        self._tree: list[int] = [0]

    def _prefix(self, index: int) -> int:
        total = 0
        while index > 0:
            total += self._tree[index]
            index -= index & -index
        return total

    def append(self, value: int) -> None:
        index = len(self._tree)
        low = index - (index & -index)
        self._tree.append(value + self._prefix(index - 1) - self._prefix(low))

    def add(self, index: int, delta: int) -> None:
        while index < len(self._tree):
            self._tree[index] += delta
            index += index & -index

    def prefix(self, index: int) -> int:
        return self._prefix(index)


class _Missing:
    pass


_MISSING = _Missing()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_inputs(body: object) -> list[dict[str, Any]]:
    """The emulator's own reading of the input schema; a list of FastAPI-style errors."""
    errors: list[dict[str, Any]] = []

    def error(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> None:
        errors.append({"loc": ["body", *loc], "msg": msg, "type": kind})

    if not isinstance(body, dict):
        error([], "the request body must be a JSON object", "type_error")
        return errors
    for key in sorted(set(body) - INPUT_FIELDS):
        error([key], "extra fields not permitted", "extra_forbidden")

    def text(loc: Sequence[str | int], value: object, required: bool) -> None:
        if isinstance(value, _Missing):
            if required:
                error(loc, "field required", "missing")
        elif not isinstance(value, str):
            error(loc, "must be a string", "string_type")
        elif required and not value.strip():
            error(loc, "must not be empty", "string_too_short")
        elif len(value) > MAX_TEXT:
            error(loc, f"must be at most {MAX_TEXT} characters", "string_too_long")

    def seconds(loc: Sequence[str | int], value: object) -> bool:
        if not _is_int(value):
            error(loc, "must be an integer", "int_type")
            return False
        if not 3 <= value <= 15:  # type: ignore[operator]
            error(loc, "must be between 3 and 15", "range")
            return False
        return True

    text(["prompt"], body.get("prompt", _MISSING), required=True)
    text(["negative_prompt"], body.get("negative_prompt", _MISSING), required=False)
    duration = body.get("duration", _MISSING)
    duration_ok = isinstance(duration, _Missing) or seconds(["duration"], duration)
    if "aspect_ratio" in body and body["aspect_ratio"] not in ASPECT_RATIOS:
        error(["aspect_ratio"], "must be one of 16:9, 9:16, 1:1", "enum")
    if "cfg_scale" in body:
        cfg = body["cfg_scale"]
        if isinstance(cfg, bool) or not isinstance(cfg, int | float) or not math.isfinite(cfg):
            error(["cfg_scale"], "must be a number", "float_type")
        elif not 0 <= cfg <= 1:
            error(["cfg_scale"], "must be between 0 and 1", "range")
    if "sound" in body and not isinstance(body["sound"], bool):
        error(["sound"], "must be a boolean", "bool_type")
    if "shot_type" in body and body["shot_type"] not in SHOT_TYPES:
        error(["shot_type"], "must be one of intelligent, customize", "enum")
    if "multi_prompt" in body:
        shots = body["multi_prompt"]
        if not isinstance(shots, list):
            error(["multi_prompt"], "must be a list", "list_type")
        elif len(shots) > MAX_SHOTS:
            error(["multi_prompt"], f"must have at most {MAX_SHOTS} items", "too_long")
        else:
            total, all_ok = 0, True
            for index, shot in enumerate(shots):
                if not isinstance(shot, dict):
                    error(["multi_prompt", index], "must be an object", "dict_type")
                    all_ok = False
                    continue
                for key in sorted(set(shot) - {"prompt", "duration"}):
                    error(["multi_prompt", index, key], "extra fields not permitted", "extra")
                text(["multi_prompt", index, "prompt"], shot.get("prompt", _MISSING), True)
                shot_duration = shot.get("duration", _MISSING)
                if isinstance(shot_duration, _Missing):
                    error(["multi_prompt", index, "duration"], "field required", "missing")
                    all_ok = False
                elif seconds(["multi_prompt", index, "duration"], shot_duration):
                    total += shot_duration  # type: ignore[operator]
                else:
                    all_ok = False
            expected = duration if _is_int(duration) else DEFAULT_DURATION
            if shots and all_ok and duration_ok and total != expected:
                error(
                    ["multi_prompt"],
                    f"the sum of the durations ({total}) must equal duration ({expected})",
                    "value_error",
                )
    return errors


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


class _Video:
    """A video body: the sample MP4 (or `body`), optionally padded by a `free` box to
    `size` bytes.

    The padding is zeros generated while streaming, so a 100 MB video costs no memory.
    """

    def __init__(self, size: int | None, body: bytes = SAMPLE_MP4) -> None:
        if size is None or size <= len(body):
            self.prefix = body
        else:
            padding = size - len(body)
            if padding < 8:
                raise ValueError(f"a padded video must be at least {len(body) + 8} bytes")
            if padding < 2**32:
                header = struct.pack(">I4s", padding, b"free")
            else:
                header = struct.pack(">I4sQ", 1, b"free", padding)
            self.prefix = body + header
        self.size = max(size or 0, len(body))

    def chunks(self, start: int, stop: int) -> Iterator[bytes]:
        """Bytes [start, stop) in chunks of at most CHUNK_BYTES."""
        position = start
        while position < stop:
            if position < len(self.prefix):
                end = min(stop, len(self.prefix), position + CHUNK_BYTES)
                yield self.prefix[position:end]
            else:
                end = min(stop, position + CHUNK_BYTES)
                yield _ZEROS[: end - position]
            position = end


class _RangeNotSatisfiable(Exception):
    pass


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=` range as [start, stop); None means "send everything" (absent or multi)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                raise _RangeNotSatisfiable
            return max(0, size - suffix), size
        start = int(first)
        stop = size if last == "" else min(size, int(last) + 1)
    except ValueError:
        return None
    if start >= size or stop <= start:
        raise _RangeNotSatisfiable
    return start, stop


class RunComfyEmulator:
    """The fake API server. Use as `async with RunComfyEmulator(...) as emulator:`."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        token: str | None = None,
        workers: int = 2,
        generation_time: Callable[[Mapping[str, Any]], float] = default_generation_time,
        queue_delay: Callable[[Mapping[str, Any]], float] | None = None,
        outcome: Callable[[Mapping[str, Any]], JobOutcome] | Sequence[JobOutcome] | None = None,
        video_size: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
        record_requests: bool = True,
    ) -> None:
        if workers < 0:
            raise ValueError("workers must be 0 or more")
        self.clock: Clock = clock if clock is not None else ScaledClock(1.0)
        self.token = token if token is not None else "rc-test-" + secrets.token_urlsafe(18)
        self.workers = workers
        self.generation_time = generation_time
        self.queue_delay = queue_delay
        self._outcome_fn = outcome if callable(outcome) else None
        self._scripted: deque[JobOutcome] = deque(
            () if outcome is None or callable(outcome) else outcome
        )
        self.video_size = video_size
        self.host = host
        self._port = port
        self._access_log = access_log
        self.record_requests = record_requests

        self.requests: list[RequestRecord] = []
        self.counts: Counter[Endpoint] = Counter()
        self._jobs: dict[str, EmulatedJob] = {}
        self._by_seq: list[EmulatedJob] = []
        self._queue: deque[EmulatedJob] = deque()
        self._queued = _Fenwick()
        self._running: list[tuple[float, int, EmulatedJob]] = []
        self._held: list[tuple[float, int, EmulatedJob]] = []
        """Jobs still inside their `queue_delay`, by the time they may start."""
        self._faults: dict[Endpoint, deque[_QueuedFault]] = {e: deque() for e in Endpoint}
        self._expired: set[str] = set()
        self._all_expired = False
        self._closing = asyncio.Event()
        self._arrival_waiters: list[tuple[Endpoint, int, asyncio.Future[None]]] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

        self._app = web.Application()
        self._app.router.add_post(SUBMIT_PATH, self._submit)
        self._app.router.add_get("/v1/requests/{request_id}/status", self._status)
        self._app.router.add_get("/v1/requests/{request_id}/result", self._result)
        self._app.router.add_post("/v1/requests/{request_id}/cancel", self._cancel)
        self._app.router.add_get("/files/{request_id}.mp4", self._file)

    def __repr__(self) -> str:
        return f"RunComfyEmulator(base_url={self.base_url!r}, jobs={len(self._jobs)})"

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
            access_log=web.access_logger if self._access_log else None,
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

    # ------------------------------------------------------------ introspection

    def count(self, endpoint: Endpoint) -> int:
        """Requests received by `endpoint`, faulted ones included."""
        return self.counts[endpoint]

    async def wait_for_requests(self, endpoint: Endpoint, count: int) -> None:
        """Wait until `endpoint` has received `count` requests (wrap it in a timeout)."""
        if self.counts[endpoint] >= count:
            return
        waiter = (Endpoint(endpoint), count, asyncio.get_running_loop().create_future())
        self._arrival_waiters.append(waiter)
        try:
            await waiter[2]
        finally:
            if waiter in self._arrival_waiters:
                self._arrival_waiters.remove(waiter)

    @property
    def submit_count(self) -> int:
        return self.counts[Endpoint.SUBMIT]

    @property
    def jobs(self) -> Mapping[str, EmulatedJob]:
        """Every job created, in submit order, simulated up to now."""
        self.advance()
        return MappingProxyType(self._jobs)

    def job(self, request_id: str) -> EmulatedJob:
        self.advance()
        return self._jobs[request_id]

    def queue_position(self, request_id: str) -> int | None:
        """Jobs ahead of this one in the queue (0 = next to start); None if not queued.

        "Ahead" means submitted earlier and still queued; with `queue_delay` a job behind
        may still start first.
        """
        job = self.job(request_id)
        if job.status != IN_QUEUE:
            return None
        return self._queued.prefix(job.seq - 1)

    @property
    def queued_count(self) -> int:
        self.advance()
        return self._queued.prefix(len(self._by_seq))

    @property
    def running_count(self) -> int:
        self.advance()
        return len(self._running)

    def output_url(self, request_id: str) -> str:
        return f"{self.base_url}/files/{request_id}.mp4"

    def video_bytes(self, request_id: str | None = None) -> bytes:
        """The exact bytes served for a job's video (the sample MP4 unless padded)."""
        video = self._video_for(self._jobs[request_id]) if request_id else _Video(None)
        return b"".join(video.chunks(0, video.size))

    # ---------------------------------------------------------------- scripting

    def script_outcomes(self, *outcomes: JobOutcome) -> None:
        """Outcomes for the next submits, in order; afterwards the default applies again."""
        self._scripted.extend(outcomes)

    def set_outcome(self, request_id: str, outcome: JobOutcome) -> None:
        """Change how a job that has not finished yet will end."""
        job = self.job(request_id)
        if job.finished_at is not None:
            raise ValueError(f"job {request_id} has already finished")
        job.outcome = outcome

    def set_workers(self, workers: int) -> None:
        """Change how many jobs generate at once; extra queued jobs start right away."""
        if workers < 0:
            raise ValueError("workers must be 0 or more")
        self.advance()
        self.workers = workers
        self._start_waiting(self.clock.now())

    def expire(self, request_id: str | None = None) -> None:
        """Answer 404 / 404001 for this request id on status, result and cancel (None: all)."""
        if request_id is None:
            self._all_expired = True
        else:
            self._expired.add(request_id)

    def unexpire(self) -> None:
        self._expired.clear()
        self._all_expired = False

    # --------------------------------------------------------------- fault knobs

    def add_fault(self, endpoint: Endpoint, fault: Fault, *, times: int | None = 1) -> None:
        """Queue `fault` for the next `times` requests to `endpoint` (None: until cleared)."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        self._faults[Endpoint(endpoint)].append(_QueuedFault(fault, times))

    def fail(
        self,
        endpoint: Endpoint,
        http_status: int = 500,
        *,
        error_code: int | None = 500001,
        message: str = "Internal server error, please retry with exponential backoff.",
        times: int | None = 1,
    ) -> None:
        """Answer with an HTTP error and a JSON error body (no `error_code` if None)."""
        self.add_fault(
            endpoint,
            Fault("fail", http_status=http_status, error_code=error_code, message=message),
            times=times,
        )

    def rate_limit(
        self, endpoint: Endpoint, *, retry_after: float | str | None = 1.0, times: int | None = 1
    ) -> None:
        """Answer 429; `retry_after` is seconds, a raw header value (e.g. an HTTP-date) or None."""
        header = None
        if retry_after is not None:
            header = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
        self.add_fault(
            endpoint, Fault("rate_limit", http_status=429, retry_after=header), times=times
        )

    def stale_result(self, *, times: int | None = 1) -> None:
        """Answer result requests with `in_progress` whatever the job's status: the
        contradiction seen in the wild (status says completed, result says not yet)."""
        self.add_fault(Endpoint.RESULT, Fault("stale", http_status=200), times=times)

    def slow(self, endpoint: Endpoint, seconds: float, *, times: int | None = 1) -> None:
        """Process the request, then wait `seconds` *real* seconds before answering.

        For submit the job is created before the wait, so a client that times out leaves a
        job behind, as a real timed-out submit may.
        """
        self.add_fault(endpoint, Fault("slow", seconds=seconds), times=times)

    def reset(
        self, endpoint: Endpoint, *, after_processing: bool = False, times: int | None = 1
    ) -> None:
        """Reset the connection (TCP RST) instead of answering.

        `after_processing=True`: submit creates the job and cancel cancels before the reset;
        for files, half of the body is sent first.
        """
        self.add_fault(endpoint, Fault("reset", after_processing=after_processing), times=times)

    def non_json(
        self, endpoint: Endpoint, *, http_status: int = 200, times: int | None = 1
    ) -> None:
        """Answer with an HTML page instead of JSON (as a misbehaving proxy would)."""
        self.add_fault(endpoint, Fault("non_json", http_status=http_status), times=times)

    def error_in_200(
        self,
        endpoint: Endpoint,
        *,
        error_code: int = 500001,
        message: str = "Internal server error, please retry with exponential backoff.",
        times: int | None = 1,
    ) -> None:
        """Answer HTTP 200 with an `error_code` body, as RunComfy does for some errors."""
        self.add_fault(
            endpoint,
            Fault("error_in_200", http_status=200, error_code=error_code, message=message),
            times=times,
        )

    def insufficient_balance(self, *, http_status: int = 402, times: int | None = 1) -> None:
        """Refuse submits with error_code 400002 (HTTP 402, or e.g. 400 / 200 if given)."""
        self.add_fault(
            Endpoint.SUBMIT,
            Fault(
                "fail",
                http_status=http_status,
                error_code=400002,
                message="Insufficient balance. Please top up your account.",
            ),
            times=times,
        )

    def clear_faults(self, endpoint: Endpoint | None = None) -> None:
        for key in [endpoint] if endpoint is not None else list(Endpoint):
            self._faults[Endpoint(key)].clear()

    def faults_pending(self, endpoint: Endpoint) -> int:
        """Requests still to be faulted at `endpoint` (-1 when a fault applies until cleared)."""
        total = 0
        for queued in self._faults[Endpoint(endpoint)]:
            if queued.remaining is None:
                return -1
            total += queued.remaining
        return total

    # ---------------------------------------------------------------- simulation

    def advance(self) -> None:
        """Bring every job up to `clock.now()`: finish due jobs and start queued ones.

        Completions and the ends of queue delays are replayed in time order (a delay
        that ends at the same moment as a completion goes first).
        """
        now = self.clock.now()
        while True:
            finish = self._running[0][0] if self._running else math.inf
            release = self._held[0][0] if self._held else math.inf
            if min(finish, release) > now:
                return
            if release <= finish:
                released_at, _, job = heapq.heappop(self._held)
                if job.status == IN_QUEUE:
                    self._queue.append(job)
                self._start_waiting(released_at)
                continue
            finished_at, _, job = heapq.heappop(self._running)
            job.finished_at = finished_at
            job.status = COMPLETED if job.outcome.kind == "complete" else FAILED
            self._start_waiting(finished_at)

    def _start_waiting(self, at: float) -> None:
        while len(self._running) < self.workers and self._queue:
            job = self._queue.popleft()
            if job.status != IN_QUEUE:
                continue
            job.status = IN_PROGRESS
            job.started_at = at
            self._queued.add(job.seq, -1)
            heapq.heappush(self._running, (at + job.generation_time, job.seq, job))

    def _create_job(self, payload: dict[str, Any]) -> EmulatedJob:
        self.advance()
        now = self.clock.now()
        if self._scripted:
            outcome = self._scripted.popleft()
        elif self._outcome_fn is not None:
            outcome = self._outcome_fn(payload)
        else:
            outcome = JobOutcome.complete()
        job = EmulatedJob(
            request_id=str(uuid.uuid4()),
            seq=len(self._by_seq) + 1,
            payload=payload,
            generation_time=max(0.0, float(self.generation_time(payload))),
            outcome=outcome,
            submitted_at=now,
            queue_delay=max(0.0, float(self.queue_delay(payload))) if self.queue_delay else 0.0,
        )
        self._jobs[job.request_id] = job
        self._by_seq.append(job)
        self._queued.append(1)
        if job.queue_delay > 0:
            heapq.heappush(self._held, (now + job.queue_delay, job.seq, job))
        else:
            self._queue.append(job)
        self._start_waiting(now)
        return job

    def _cancel_job(self, job: EmulatedJob) -> str:
        if job.status == IN_QUEUE:
            job.status = CANCELLED
            job.finished_at = self.clock.now()
            self._queued.add(job.seq, -1)
        return CANCELLED if job.status == CANCELLED else "not_cancellable"

    def _video_for(self, job: EmulatedJob) -> _Video:
        size = job.outcome.video_size if job.outcome.video_size is not None else self.video_size
        if job.outcome.video_data is not None:
            return _Video(size, job.outcome.video_data)
        return _Video(size)

    # ------------------------------------------------------------------ serving

    def _next_fault(self, endpoint: Endpoint) -> Fault | None:
        queue = self._faults[endpoint]
        if not queue:
            return None
        queued = queue[0]
        if queued.remaining is not None:
            queued.remaining -= 1
            if queued.remaining <= 0:
                queue.popleft()
        return queued.fault

    def _record(self, request: web.Request, endpoint: Endpoint) -> RequestRecord:
        self.counts[endpoint] += 1
        for waiter_endpoint, count, future in self._arrival_waiters:
            if waiter_endpoint is endpoint and self.counts[endpoint] >= count and not future.done():
                future.set_result(None)
        record = RequestRecord(
            method=request.method,
            path=request.path,
            endpoint=endpoint,
            at=self.clock.now(),
            request_id=request.match_info.get("request_id"),
        )
        if self.record_requests:
            self.requests.append(record)
        return record

    @staticmethod
    def _reset_connection(request: web.Request) -> None:
        transport = request.transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    async def _wait_real(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)

    def _fault_answer(self, fault: Fault) -> web.Response:
        if fault.kind == "rate_limit":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return web.json_response(
                {"error_code": 429001, "error_message": "Too many requests, slow down."},
                status=429,
                headers=headers,
            )
        if fault.kind == "stale":
            return web.json_response({"status": IN_PROGRESS})
        if fault.kind == "non_json":
            return web.Response(
                status=fault.http_status,
                text="<html><body><h1>Bad gateway</h1>upstream hiccup</body></html>",
                content_type="text/html",
            )
        body: dict[str, Any] = {"error_message": fault.message}
        if fault.error_code is not None:
            body["error_code"] = fault.error_code
        return web.json_response(body, status=fault.http_status)

    async def _serve(
        self,
        request: web.Request,
        endpoint: Endpoint,
        process: Callable[[], Awaitable[web.Response]],
    ) -> web.StreamResponse:
        """Record, apply the next fault, check auth, run `process`; the one path for all APIs."""
        record = self._record(request, endpoint)
        fault = self._next_fault(endpoint)
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind == "reset" and not fault.after_processing:
            self._reset_connection(request)
            return web.Response()
        if fault is not None and fault.kind not in ("reset", "slow"):
            response = self._fault_answer(fault)
        elif endpoint is not Endpoint.FILE and not self._authorized(request):
            response = web.json_response(
                {"error_code": 401001, "error_message": "Unauthorized: invalid or missing token."},
                status=401,
            )
        else:
            response = await process()
        if fault is not None and fault.kind == "reset":
            self._reset_connection(request)
            return web.Response()
        if fault is not None and fault.kind == "slow":
            await self._wait_real(fault.seconds)
        record.http_status = response.status
        return response

    def _authorized(self, request: web.Request) -> bool:
        expected = f"Bearer {self.token}"
        return secrets.compare_digest(request.headers.get("Authorization", ""), expected)

    def _job_or_404(self, request: web.Request) -> EmulatedJob | web.Response:
        request_id = request.match_info["request_id"]
        job = self._jobs.get(request_id)
        if job is None or self._all_expired or request_id in self._expired:
            return web.json_response(
                {"error_code": 404001, "error_message": "Request not found or expired."},
                status=404,
            )
        self.advance()
        return job

    def _links(self, job: EmulatedJob) -> dict[str, str]:
        base = f"{self.base_url}/v1/requests/{job.request_id}"
        return {
            "status_url": f"{base}/status",
            "result_url": f"{base}/result",
            "cancel_url": f"{base}/cancel",
        }

    def _status_body(self, job: EmulatedJob) -> dict[str, Any]:
        body: dict[str, Any] = {"request_id": job.request_id, "status": job.status}
        if job.status == IN_QUEUE:
            body["queue_position"] = self._queued.prefix(job.seq - 1)
        links = self._links(job)
        body["status_url"] = links["status_url"]
        body["result_url"] = links["result_url"]
        return body

    async def _submit(self, request: web.Request) -> web.StreamResponse:
        async def process() -> web.Response:
            try:
                payload = await request.json()
            except ValueError:
                payload = None
            problems = validate_inputs(payload)
            if problems:
                return web.json_response(
                    {"error_code": 422001, "error_message": "Validation error", "detail": problems},
                    status=422,
                )
            job = self._create_job(payload)
            return web.json_response({"request_id": job.request_id, **self._links(job)})

        return await self._serve(request, Endpoint.SUBMIT, process)

    async def _status(self, request: web.Request) -> web.StreamResponse:
        async def process() -> web.Response:
            job = self._job_or_404(request)
            if isinstance(job, web.Response):
                return job
            return web.json_response(self._status_body(job))

        return await self._serve(request, Endpoint.STATUS, process)

    async def _result(self, request: web.Request) -> web.StreamResponse:
        async def process() -> web.Response:
            job = self._job_or_404(request)
            if isinstance(job, web.Response):
                return job
            if job.status in (IN_QUEUE, IN_PROGRESS):
                return web.json_response(self._status_body(job))
            body: dict[str, Any] = {
                "request_id": job.request_id,
                "status": job.status,
                "output": {"video": self.output_url(job.request_id)}
                if job.status == COMPLETED
                else None,
                "created_at": _iso(job.submitted_at),
                "finished_at": _iso(job.finished_at),
                "error": job.outcome.error if job.status == FAILED else None,
            }
            if request.query.get("include_cost", "").lower() in ("true", "1", "yes"):
                body["cost"] = float(job.cost) if job.status == COMPLETED else 0.0
                body["model_id"] = MODEL_ID
            return web.json_response(body)

        return await self._serve(request, Endpoint.RESULT, process)

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        async def process() -> web.Response:
            job = self._job_or_404(request)
            if isinstance(job, web.Response):
                return job
            outcome = self._cancel_job(job)
            return web.json_response({"status": job.status, "outcome": outcome})

        return await self._serve(request, Endpoint.CANCEL, process)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        record = self._record(request, Endpoint.FILE)
        fault = self._next_fault(Endpoint.FILE)
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind == "reset" and not fault.after_processing:
            self._reset_connection(request)
            return web.Response()
        if fault is not None and fault.kind not in ("reset", "slow"):
            answer = self._fault_answer(fault)
            record.http_status = answer.status
            return answer
        if fault is not None and fault.kind == "slow":
            await self._wait_real(fault.seconds)
        self.advance()
        job = self._jobs.get(request.match_info["request_id"])
        if job is None or job.status != COMPLETED:
            record.http_status = 404
            return web.Response(status=404, text="Not found")
        video = self._video_for(job)
        try:
            span = _parse_range(request.headers.get("Range"), video.size)
        except _RangeNotSatisfiable:
            record.http_status = 416
            return web.Response(status=416, headers={"Content-Range": f"bytes */{video.size}"})
        start, stop = span if span is not None else (0, video.size)
        response = web.StreamResponse(status=206 if span is not None else 200)
        response.content_type = "video/mp4"
        response.content_length = stop - start
        response.headers["Accept-Ranges"] = "bytes"
        if span is not None:
            response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{video.size}"
        record.http_status = response.status
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        cut = start + (stop - start) // 2 if fault is not None and fault.kind == "reset" else stop
        for chunk in video.chunks(start, cut):
            await response.write(chunk)
        if cut < stop:
            self._reset_connection(request)
            return response
        await response.write_eof()
        return response
