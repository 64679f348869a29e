"""The RunComfy side of a job: what a submit, a poll or a cancel answer means for it.

Shared by the tracker and the command-line generator, so both read RunComfy's answers the
same way. It calls RunComfy through the `RunComfy` port and returns verdicts; it never
touches the store or decides when to ask again, so it can be tested and reused alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from bot.jobs.model import Failure, JobState
from bot.jobs.ports import RunComfy
from bot.runcomfy.client import BeforeSending
from bot.runcomfy.errors import ErrorKind, RateLimitedError, RunComfyError
from bot.runcomfy.request import KlingRequest
from bot.runcomfy.responses import CancelOutcome, JobResult, RequestStatus, StatusResult

log = logging.getLogger(__name__)

TOKEN_PROBE_ID = "token-check"
RETRYABLE_SUBMIT_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.SERVER, ErrorKind.TRANSPORT})
"""Refusals that clearly mean the job was not accepted (so nothing was charged): 429, a
5xx other than a gateway's, no connection. Trying again later may work."""


@dataclass(frozen=True, slots=True)
class Accepted:
    request_id: str


@dataclass(frozen=True, slots=True)
class Refused:
    """RunComfy did not take the job, or it is unknown whether it did (`failure` says)."""

    failure: Failure
    detail: str | None = None
    retry_kind: ErrorKind | None = None
    """Set when trying again later may work (and nothing was charged)."""
    retry_after: float | None = None
    """RunComfy's own Retry-After, in seconds, when it gave one."""
    problem: RunComfyError | None = None
    """The error behind it (the operator's command line names its host and cause)."""


SubmitVerdict = Accepted | Refused


class Seen(StrEnum):
    """What one poll learned about a job."""

    IN_QUEUE = "in_queue"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"
    """RunComfy no longer knows the request id (unknown or expired)."""
    RESULT_PENDING = "result_pending"
    """The status says completed, the result does not have it yet."""
    NO_ANSWER = "no_answer"
    """A transient problem (429, 5xx, network) after the client's own retries."""
    UNKNOWN = "unknown"
    """A status nobody documented: keep polling until the deadline."""


@dataclass(frozen=True, slots=True)
class PollVerdict:
    seen: Seen
    queue_position: int | None = None
    output_url: str | None = None
    cost: Decimal | None = None
    failure: Failure | None = None
    detail: str | None = None
    problem: RunComfyError | None = None
    raw_status: str | None = None


class Cancelled(StrEnum):
    """What asking RunComfy to cancel a queued job came to."""

    CANCELLED = "cancelled"
    STARTED = "started"
    """Too late: RunComfy is generating it (it will finish and be charged)."""
    FINISHED = "finished"
    NOT_CONFIRMED = "not_confirmed"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class CancelVerdict:
    outcome: Cancelled
    problem: ErrorKind | None = None


def refusal(error: RunComfyError) -> Refused:
    """A failed submit, named: final, unknown, or worth trying again later."""
    return replace(_refusal(error), problem=error)


def _refusal(error: RunComfyError) -> Refused:
    kind = error.kind
    if kind is ErrorKind.SUBMIT_OUTCOME_UNKNOWN:
        return Refused(Failure.SUBMIT_OUTCOME_UNKNOWN)
    if kind is ErrorKind.RATE_LIMITED:
        retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
        return Refused(Failure.RUNCOMFY_BUSY, retry_kind=kind, retry_after=retry_after)
    if kind in RETRYABLE_SUBMIT_KINDS:
        return Refused(Failure.RUNCOMFY_DOWN, detail=kind.value, retry_kind=kind)
    if kind is ErrorKind.AUTHENTICATION:
        return Refused(Failure.TOKEN_REFUSED)
    if kind is ErrorKind.INSUFFICIENT_BALANCE:
        return Refused(Failure.OUT_OF_CREDIT)
    if kind is ErrorKind.INVALID_INPUT:
        return Refused(Failure.INPUT_REFUSED, detail=getattr(error, "reason", None))
    return Refused(Failure.RUNCOMFY_ERROR, detail=kind.value)


class RunComfySide:
    """Submit, poll and cancel one job at RunComfy, and say what each answer means."""

    def __init__(self, runcomfy: RunComfy) -> None:
        self._runcomfy = runcomfy

    async def submit(
        self, request: KlingRequest, *, before_sending: BeforeSending | None = None
    ) -> SubmitVerdict:
        """Send the paid request once; never retried here (a retry may bill twice). An error
        of `before_sending`'s own (the database refused) comes back as it is: nothing was sent."""
        try:
            submitted = await self._runcomfy.submit(request, before_sending=before_sending)
        except RunComfyError as error:
            return refusal(error)
        return Accepted(submitted.request_id)

    async def poll(self, request_id: str, state: JobState) -> PollVerdict:
        """One look at a QUEUED (asks `/status`) or RUNNING (asks `/result`) job."""
        answer: StatusResult | JobResult
        try:
            if state is JobState.QUEUED:
                answer = await self._runcomfy.status(request_id)
            else:
                answer = await self._runcomfy.result(request_id)
        except RunComfyError as error:
            if error.kind is ErrorKind.NOT_FOUND:
                return await self._not_found(request_id, state, error)
            return PollVerdict(Seen.NO_ANSWER, problem=error)
        return await self.read(request_id, answer)

    async def read(self, request_id: str, answer: StatusResult | JobResult) -> PollVerdict:
        """What a status or result answer means; asks `/result` when the status alone
        cannot tell (the video of a completed job, the reason of a failed one)."""
        status = answer.status
        if status is RequestStatus.IN_QUEUE:
            return PollVerdict(Seen.IN_QUEUE, queue_position=answer.queue_position)
        if status is RequestStatus.IN_PROGRESS:
            return PollVerdict(Seen.RUNNING)
        if status is RequestStatus.COMPLETED:
            return await self._completed(request_id, answer)
        if status is RequestStatus.FAILED:
            reason = answer.error if isinstance(answer, JobResult) else None
            if reason is None:
                reason = await self._failure_reason(request_id)
            return PollVerdict(Seen.FAILED, failure=Failure.GENERATION_FAILED, detail=reason)
        if status is RequestStatus.CANCELLED:
            return PollVerdict(Seen.CANCELLED, failure=Failure.CANCELLED_AT_RUNCOMFY)
        return PollVerdict(Seen.UNKNOWN, raw_status=answer.raw_status)

    async def token_works(self) -> bool:
        """Whether RunComfy accepts the bot's token: a status call for an id that cannot
        exist costs nothing, and only a refused token answers it with 401/403."""
        try:
            await self._runcomfy.status(TOKEN_PROBE_ID)
        except RunComfyError as error:
            return error.kind is not ErrorKind.AUTHENTICATION
        return True

    async def cancel(self, request_id: str) -> CancelVerdict:
        """Ask RunComfy to cancel a queued job, and check what really happened."""
        try:
            answer = await self._runcomfy.cancel(request_id)
            outcome, status = answer.outcome, answer.status
            if outcome is CancelOutcome.UNKNOWN:
                status = (await self._runcomfy.status(request_id)).status
        except RunComfyError as error:
            log.warning("cancel of %s failed: %s", request_id, error)
            return CancelVerdict(Cancelled.UNREACHABLE, error.kind)
        if outcome is CancelOutcome.CANCELLED or status is RequestStatus.CANCELLED:
            return CancelVerdict(Cancelled.CANCELLED)
        if status is RequestStatus.IN_QUEUE and outcome is not CancelOutcome.NOT_CANCELLABLE:
            return CancelVerdict(Cancelled.NOT_CONFIRMED)
        if status in (RequestStatus.COMPLETED, RequestStatus.FAILED):
            return CancelVerdict(Cancelled.FINISHED)
        return CancelVerdict(Cancelled.STARTED)

    async def _completed(self, request_id: str, answer: StatusResult | JobResult) -> PollVerdict:
        result = answer
        if not isinstance(result, JobResult):
            try:
                result = await self._runcomfy.result(request_id)
            except RunComfyError as error:
                return PollVerdict(Seen.NO_ANSWER, problem=error)
        if result.status is not RequestStatus.COMPLETED:
            return PollVerdict(Seen.RESULT_PENDING, raw_status=result.raw_status)
        url = result.video_url
        if url is None:
            return PollVerdict(Seen.FAILED, failure=Failure.NO_VIDEO, cost=result.cost)
        return PollVerdict(Seen.FINISHED, output_url=url, cost=result.cost)

    async def _failure_reason(self, request_id: str) -> str | None:
        try:
            return (await self._runcomfy.result(request_id)).error
        except RunComfyError:
            return None

    async def _not_found(
        self, request_id: str, state: JobState, error: RunComfyError
    ) -> PollVerdict:
        """The result endpoint may refuse unfinished jobs; only a second opinion from the
        status endpoint says a running job is really gone."""
        if state is not JobState.QUEUED:
            try:
                await self._runcomfy.status(request_id)
            except RunComfyError as second:
                if second.kind is not ErrorKind.NOT_FOUND:
                    return PollVerdict(Seen.NO_ANSWER, problem=second)
            else:
                return PollVerdict(Seen.NO_ANSWER, problem=error)
        return PollVerdict(Seen.LOST, failure=Failure.UNKNOWN_TO_RUNCOMFY)
