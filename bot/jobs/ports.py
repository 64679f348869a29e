"""The tracker's small interfaces to the outside: RunComfy on one side, people on the other.

`RunComfyClient` implements `RunComfy`; the Discord layer implements `JobObserver` and
`Notifier`. The tracker knows nothing else of either.
"""

from __future__ import annotations

from typing import Protocol

from bot.jobs.model import Job
from bot.runcomfy.request import KlingRequest
from bot.runcomfy.responses import CancelResult, JobResult, StatusResult, SubmitResult


class RunComfy(Protocol):
    """The four calls of RunComfy's queue API; each raises `RunComfyError` (by `kind`)."""

    async def submit(self, request: KlingRequest) -> SubmitResult: ...

    async def status(self, request_id: str) -> StatusResult: ...

    async def result(self, request_id: str) -> JobResult: ...

    async def cancel(self, request_id: str) -> CancelResult: ...


class JobObserver(Protocol):
    """Told about every persisted change of a job. Must return at once (queue work, don't do it)."""

    def job_changed(self, job: Job) -> None: ...


class Notifier(Protocol):
    """Sends a finished job's final message: the video, or why there is none.

    Called again after a failure or a restart, so it must be idempotent for the same job
    (the Discord layer uses a nonce derived from the job). Returns the message id.
    """

    async def send_notice(self, job: Job) -> int | None: ...


class NoticeError(Exception):
    """The final message could not be sent. `retryable` says whether trying later may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable
