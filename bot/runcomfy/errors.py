"""One error taxonomy for everything RunComfy's Model API can answer.

Each class names its `kind` (what happened, for whoever words it for people), says
whether the call may be retried, and never holds the API token or request headers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from bot.network import Cause


class ErrorKind(StrEnum):
    """What went wrong, coarse enough for callers to decide and to explain."""

    OTHER = "other"
    AUTHENTICATION = "authentication"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    INVALID_INPUT = "invalid_input"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER = "server"
    TRANSPORT = "transport"
    SUBMIT_OUTCOME_UNKNOWN = "submit_outcome_unknown"
    INVALID_REQUEST_ID = "invalid_request_id"


class RunComfyError(Exception):
    """Base class. `str(error)` is safe to log (the token is redacted before it gets here)."""

    kind: ClassVar[ErrorKind] = ErrorKind.OTHER
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error_code = error_code

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self)!r}, http_status={self.http_status}, "
            f"error_code={self.error_code})"
        )


class AuthenticationError(RunComfyError):
    """401, 403001 or error codes 400004 / 401001: the token is bad, expired or not allowed."""

    kind = ErrorKind.AUTHENTICATION


class InsufficientBalanceError(RunComfyError):
    """402 or error code 400002."""

    kind = ErrorKind.INSUFFICIENT_BALANCE


class InvalidInputError(RunComfyError):
    """400 / 422 (or 400001 / 422001): RunComfy refused the inputs; `detail` says why."""

    kind = ErrorKind.INVALID_INPUT

    def __init__(
        self, message: str, *, detail: Any = None, reason: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.detail = detail
        self.reason = reason
        """What RunComfy said was wrong, in one redacted line; None when it said nothing
        (the Discord side then says so in the reader's language)."""


class RequestNotFoundError(RunComfyError):
    """404 or error code 404001: the request id is unknown or has expired."""

    kind = ErrorKind.NOT_FOUND


class RateLimitedError(RunComfyError):
    """429: RunComfy asks us to slow down, maybe saying for how long."""

    kind = ErrorKind.RATE_LIMITED

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(RunComfyError):
    """5xx or error code 500001: a fault on RunComfy's side."""

    kind = ErrorKind.SERVER

    retryable = True


class TransportError(RunComfyError):
    """No usable answer: timeout, connection reset or refused, or a body that is not JSON."""

    kind = ErrorKind.TRANSPORT

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        request_sent: bool = True,
        cause: Cause = Cause.OTHER,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent
        self.cause = cause
        """Why the exchange failed (an unknown host, a refused connection, TLS, a timeout),
        for the operator."""


class SubmitOutcomeUnknownError(RunComfyError):
    """A submit that may or may not have reached RunComfy. Never retried: a retry may bill twice."""

    kind = ErrorKind.SUBMIT_OUTCOME_UNKNOWN

    def __init__(self, message: str, *, cause: Cause = Cause.OTHER, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cause = cause
        """Why the answer was lost, when the connection was (a timeout, a cut)."""


class InvalidRequestIdError(RunComfyError, ValueError):
    """A request id that does not look like one; refused before it goes into a URL."""

    kind = ErrorKind.INVALID_REQUEST_ID
