"""The small interface between the tracker and whoever shows jobs to people.

The Discord layer implements both protocols; the tracker knows nothing else of it.
"""

from __future__ import annotations

from typing import Protocol

from bot.jobs.model import Job


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
