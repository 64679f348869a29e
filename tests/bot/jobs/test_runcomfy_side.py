"""What RunComfy's answers mean for a job, read once for the tracker and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from bot.jobs.model import Failure, JobState
from bot.jobs.runcomfy_side import Accepted, Cancelled, Refused, RunComfySide, Seen, refusal
from bot.runcomfy.client import BeforeSending
from bot.runcomfy.errors import (
    AuthenticationError,
    ErrorKind,
    InsufficientBalanceError,
    InvalidInputError,
    RateLimitedError,
    RequestNotFoundError,
    RunComfyError,
    ServerError,
    SubmitOutcomeUnknownError,
    TransportError,
)
from bot.runcomfy.request import KlingRequest
from bot.runcomfy.responses import (
    CancelOutcome,
    CancelResult,
    JobResult,
    RequestStatus,
    StatusResult,
    SubmitResult,
)

RID = "req-1"


@dataclass
class ScriptedRunComfy:
    """Answers (or errors) per endpoint, in order; records every call."""

    statuses: list[StatusResult | RunComfyError] = field(default_factory=list)
    results: list[JobResult | RunComfyError] = field(default_factory=list)
    cancels: list[CancelResult | RunComfyError] = field(default_factory=list)
    submits: list[SubmitResult | RunComfyError] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    @staticmethod
    def _next(queue: list, name: str):  # type: ignore[no-untyped-def]
        answer = queue.pop(0)
        if isinstance(answer, RunComfyError):
            raise answer
        return answer

    async def submit(
        self, request: KlingRequest, *, before_sending: BeforeSending | None = None
    ) -> SubmitResult:
        self.calls.append("submit")
        if before_sending is not None:
            await before_sending()
        return self._next(self.submits, "submit")

    async def status(self, request_id: str) -> StatusResult:
        self.calls.append("status")
        return self._next(self.statuses, "status")

    async def result(self, request_id: str) -> JobResult:
        self.calls.append("result")
        return self._next(self.results, "result")

    async def cancel(self, request_id: str) -> CancelResult:
        self.calls.append("cancel")
        return self._next(self.cancels, "cancel")


def status(value: RequestStatus, position: int | None = None) -> StatusResult:
    return StatusResult(RID, value, value.value, position)


def result(value: RequestStatus, **fields: object) -> JobResult:
    return JobResult(RID, value, value.value, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "failure", "retry"),
    [
        (SubmitOutcomeUnknownError("x"), Failure.SUBMIT_OUTCOME_UNKNOWN, None),
        (RateLimitedError("x", retry_after=4.0), Failure.RUNCOMFY_BUSY, ErrorKind.RATE_LIMITED),
        (ServerError("x"), Failure.RUNCOMFY_DOWN, ErrorKind.SERVER),
        (TransportError("x", request_sent=False), Failure.RUNCOMFY_DOWN, ErrorKind.TRANSPORT),
        (AuthenticationError("x"), Failure.TOKEN_REFUSED, None),
        (InsufficientBalanceError("x"), Failure.OUT_OF_CREDIT, None),
        (InvalidInputError("x", reason="duration too long"), Failure.INPUT_REFUSED, None),
        (RequestNotFoundError("x"), Failure.RUNCOMFY_ERROR, None),
    ],
)
def test_every_submit_refusal_is_named_and_only_clear_ones_are_retried(
    error: RunComfyError, failure: Failure, retry: ErrorKind | None
) -> None:
    refused = refusal(error)
    assert (refused.failure, refused.retry_kind) == (failure, retry)
    if isinstance(error, RateLimitedError):
        assert refused.retry_after == 4.0
    if isinstance(error, InvalidInputError):
        assert refused.detail == "duration too long"


async def test_submit_is_sent_once() -> None:
    port = ScriptedRunComfy(submits=[SubmitResult(RID)])
    assert await RunComfySide(port).submit(KlingRequest(prompt="a")) == Accepted(RID)
    port = ScriptedRunComfy(submits=[ServerError("x")])
    assert isinstance(await RunComfySide(port).submit(KlingRequest(prompt="a")), Refused)
    assert port.calls == ["submit"]


async def test_a_queued_job_is_asked_by_status_and_a_running_one_by_result() -> None:
    port = ScriptedRunComfy(
        statuses=[status(RequestStatus.IN_QUEUE, 3)], results=[result(RequestStatus.IN_PROGRESS)]
    )
    side = RunComfySide(port)
    queued = await side.poll(RID, JobState.QUEUED)
    assert (queued.seen, queued.queue_position) == (Seen.IN_QUEUE, 3)
    assert (await side.poll(RID, JobState.RUNNING)).seen is Seen.RUNNING
    assert port.calls == ["status", "result"]


async def test_completed_status_fetches_the_video_and_cost() -> None:
    port = ScriptedRunComfy(
        statuses=[status(RequestStatus.COMPLETED)],
        results=[result(RequestStatus.COMPLETED, outputs={"video": "https://v"}, cost=Decimal(1))],
    )
    verdict = await RunComfySide(port).poll(RID, JobState.QUEUED)
    assert (verdict.seen, verdict.output_url, verdict.cost) == (Seen.FINISHED, "https://v", 1)


async def test_completed_without_a_video_is_a_failure_that_keeps_the_cost() -> None:
    port = ScriptedRunComfy(results=[result(RequestStatus.COMPLETED, cost=Decimal("0.5"))])
    verdict = await RunComfySide(port).poll(RID, JobState.RUNNING)
    assert (verdict.seen, verdict.failure, verdict.cost) == (
        Seen.FAILED,
        Failure.NO_VIDEO,
        Decimal("0.5"),
    )


async def test_status_completed_but_result_lagging_is_pending() -> None:
    port = ScriptedRunComfy(
        statuses=[status(RequestStatus.COMPLETED)], results=[result(RequestStatus.IN_PROGRESS)]
    )
    assert (await RunComfySide(port).poll(RID, JobState.QUEUED)).seen is Seen.RESULT_PENDING


async def test_a_failure_asks_for_the_reason_once() -> None:
    port = ScriptedRunComfy(
        statuses=[status(RequestStatus.FAILED)],
        results=[result(RequestStatus.FAILED, error="flagged")],
    )
    verdict = await RunComfySide(port).poll(RID, JobState.QUEUED)
    assert (verdict.failure, verdict.detail) == (Failure.GENERATION_FAILED, "flagged")


async def test_a_running_job_is_lost_only_when_status_agrees() -> None:
    lost = ScriptedRunComfy(
        results=[RequestNotFoundError("x")], statuses=[RequestNotFoundError("y")]
    )
    assert (await RunComfySide(lost).poll(RID, JobState.RUNNING)).seen is Seen.LOST
    alive = ScriptedRunComfy(
        results=[RequestNotFoundError("x")], statuses=[status(RequestStatus.IN_PROGRESS)]
    )
    assert (await RunComfySide(alive).poll(RID, JobState.RUNNING)).seen is Seen.NO_ANSWER


async def test_transient_errors_are_no_answer() -> None:
    port = ScriptedRunComfy(statuses=[ServerError("x")])
    verdict = await RunComfySide(port).poll(RID, JobState.QUEUED)
    assert verdict.seen is Seen.NO_ANSWER
    assert isinstance(verdict.problem, ServerError)


async def test_unknown_status_keeps_polling() -> None:
    port = ScriptedRunComfy(statuses=[StatusResult(RID, RequestStatus.UNKNOWN, "warming_up")])
    verdict = await RunComfySide(port).poll(RID, JobState.QUEUED)
    assert (verdict.seen, verdict.raw_status) == (Seen.UNKNOWN, "warming_up")


@pytest.mark.parametrize(
    ("answer", "then_status", "outcome"),
    [
        (CancelResult(CancelOutcome.CANCELLED), None, Cancelled.CANCELLED),
        (CancelResult(CancelOutcome.NOT_CANCELLABLE), None, Cancelled.STARTED),
        (CancelResult(CancelOutcome.UNKNOWN), RequestStatus.CANCELLED, Cancelled.CANCELLED),
        (CancelResult(CancelOutcome.UNKNOWN), RequestStatus.IN_QUEUE, Cancelled.NOT_CONFIRMED),
        (CancelResult(CancelOutcome.UNKNOWN), RequestStatus.COMPLETED, Cancelled.FINISHED),
        (ServerError("x"), None, Cancelled.UNREACHABLE),
    ],
)
async def test_cancel_says_what_really_happened(
    answer: CancelResult | RunComfyError, then_status: RequestStatus | None, outcome: Cancelled
) -> None:
    port = ScriptedRunComfy(cancels=[answer], statuses=[status(then_status)] if then_status else [])
    assert (await RunComfySide(port).cancel(RID)).outcome is outcome
