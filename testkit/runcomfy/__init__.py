"""An in-repo RunComfy Model API for tests and benchmarks, on 127.0.0.1.

It follows the contract of `kling/kling-3.0/standard/text-to-video` (see the project's
RunComfy notes) without sharing code with the bot: inputs are checked by its own rules
(`inputs`), so a bug in the bot's validation shows up as a 422 here instead of passing
silently.

Jobs move in_queue → in_progress → completed / failed / cancelled on a `Clock`, with
`workers` jobs generating at once, so queue positions are real (`simulation`). Every
request (and every read of `jobs`) advances the simulation to `clock.now()`.

An optional `queue_delay(payload)` holds each job in the queue for at least that many
clock seconds before a worker may take it, for loads that need a per-job queue wait
(e.g. 0–60 s) independent of how many workers there are.

Fault knobs (`faults`) are queued per endpoint and consumed in order, one per request.

Modules: `contract` (model id, prices, limits, statuses, endpoints), `clock`
(`ManualClock`), `inputs` (`validate_inputs`), `jobs` (`JobOutcome`, `EmulatedJob`),
`simulation` (the queue and the workers), `faults`, `traffic` (request records),
`video` (the sample MP4, padding, byte ranges), `routes` (the HTTP handlers) and
`emulator` (`RunComfyEmulator`).
"""

from .clock import ManualClock
from .contract import (
    API_ENDPOINTS,
    CANCELLED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    IN_QUEUE,
    MODEL_ID,
    PRICE_PER_SECOND,
    PRICE_PER_SECOND_WITH_SOUND,
    SUBMIT_PATH,
    Endpoint,
)
from .emulator import RunComfyEmulator
from .faults import Fault, FaultKind
from .inputs import validate_inputs
from .jobs import EmulatedJob, JobOutcome, default_generation_time
from .traffic import RequestRecord
from .video import CHUNK_BYTES, SAMPLE_MP4

__all__ = [
    "API_ENDPOINTS",
    "CANCELLED",
    "CHUNK_BYTES",
    "COMPLETED",
    "FAILED",
    "IN_PROGRESS",
    "IN_QUEUE",
    "MODEL_ID",
    "PRICE_PER_SECOND",
    "PRICE_PER_SECOND_WITH_SOUND",
    "SAMPLE_MP4",
    "SUBMIT_PATH",
    "EmulatedJob",
    "Endpoint",
    "Fault",
    "FaultKind",
    "JobOutcome",
    "ManualClock",
    "RequestRecord",
    "RunComfyEmulator",
    "default_generation_time",
    "validate_inputs",
]
