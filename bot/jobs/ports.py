"""The tracker's small interfaces to the outside: RunComfy on one side, people on the other.

`RunComfyClient` implements `RunComfy`; the Discord layer implements `JobObserver` and
`Notifier`. The tracker knows nothing else of either.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from enum import StrEnum
from typing import Protocol

from bot.jobs.leases import Room
from bot.jobs.model import Job, JobState
from bot.jobs.usage import UsageRecord
from bot.runcomfy.client import BeforeSending
from bot.runcomfy.request import KlingRequest
from bot.runcomfy.responses import CancelResult, JobResult, StatusResult, SubmitResult


class StoreError(Exception):
    """The database refused a read or write (locked, read-only, disk full, I/O error, a
    lost connection); every backend raises this, so the tracker need not know which."""


class JobStorage(Protocol):
    """Jobs, row by row."""

    async def insert(self, job: Job) -> Job: ...

    async def save(self, job: Job) -> Job:
        """Write the whole job and return it as stored (its `version` one more). The write
        is fenced: it lands only if the row is still at the job's `version` (and, when
        processes share the jobs, this process holds it), else `LeaseLost`; `KeyError` for
        a job that was never inserted."""
        ...

    async def save_if_room(self, job: Job, room: Room) -> Job | None:
        """`save`, if the jobs at RunComfy leave room for this one (else None)."""
        ...

    async def leave_request_id(self, job_id: int, request_id: str) -> bool:
        """Record RunComfy's request id on a job still marked as being sent, whoever holds
        it (not fenced by the lease: the caller lost it while its submit was under way);
        True when the row holds this request id now."""
        ...

    async def check_writable(self) -> None:
        """A write that changes nothing: raises `StoreError` while the database refuses
        writes."""
        ...

    async def get(self, job_id: int) -> Job | None: ...

    async def load_open(self) -> list[Job]: ...

    async def open_counts(self, requester_id: int, guild_id: int | None) -> tuple[int, int]: ...

    def intake_lock(self, guild_id: int | None) -> AbstractAsyncContextManager[None]: ...

    async def find(
        self,
        *,
        requester_id: int | None = None,
        guild_id: int | None = None,
        states: Iterable[JobState] | None = None,
        since: float | None = None,
        limit: int | None = 25,
    ) -> list[Job]: ...

    async def usage_records(
        self, *, since: float, guild_id: int | None, requester_id: int | None = None
    ) -> list[UsageRecord]: ...


class RunComfy(Protocol):
    """The four calls of RunComfy's queue API; each raises `RunComfyError` (by `kind`)."""

    async def submit(
        self, request: KlingRequest, *, before_sending: BeforeSending | None = None
    ) -> SubmitResult: ...

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


class NoticeProblem(StrEnum):
    """Why a final message could not be sent. The job records it in `Job.notice_error` as
    `<problem>` or `<problem>: <detail>` (the detail in Discord's own words, for the log);
    the Discord side words each problem in the reader's language."""

    MISSING_PERMISSION = "missing_permission"
    CHANNEL_GONE = "channel_gone"
    DISCORD_ERROR = "discord_error"
    UNREACHABLE = "unreachable"
    COPY_GONE = "copy_gone"
    UNEXPECTED = "unexpected"


def notice_record(problem: NoticeProblem | str, detail: str | None = None) -> str:
    """What `Job.notice_error` holds: `channel_gone: Unknown Channel`."""
    return f"{problem}: {detail}" if detail else str(problem)


def read_notice_record(record: str) -> tuple[NoticeProblem | None, str]:
    """A recorded problem and its detail; None for a record of another kind (an older,
    free-text reason), whose whole text is then the detail."""
    name, _, detail = record.partition(": ")
    try:
        return NoticeProblem(name), detail
    except ValueError:
        return None, record


class NoticeError(Exception):
    """The final message could not be sent. `retryable` says whether trying later may help;
    `str(error)` is the record the job keeps."""

    def __init__(
        self, problem: NoticeProblem, detail: str | None = None, *, retryable: bool
    ) -> None:
        super().__init__(notice_record(problem, detail))
        self.problem = problem
        self.detail = detail
        self.retryable = retryable
