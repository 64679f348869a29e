"""Fault knobs, queued per endpoint and consumed in order, one per request.

`rate_limit(Endpoint.STATUS, retry_after=2, times=3)` then `fail(Endpoint.STATUS, 502)`
answers the next three status calls with 429 and the fourth with 502."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from .contract import Endpoint

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


class FaultKnobs:
    """The emulator's fault-scripting API and the queues behind it."""

    def __init__(self) -> None:
        self._faults: dict[Endpoint, deque[_QueuedFault]] = {e: deque() for e in Endpoint}

    def next_fault(self, endpoint: Endpoint) -> Fault | None:
        """The fault for the request arriving now at `endpoint`, consuming one use of it."""
        queue = self._faults[endpoint]
        if not queue:
            return None
        queued = queue[0]
        if queued.remaining is not None:
            queued.remaining -= 1
            if queued.remaining <= 0:
                queue.popleft()
        return queued.fault

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
