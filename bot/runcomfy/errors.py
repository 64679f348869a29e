"""One error taxonomy for everything RunComfy's Model API can answer.

Each class carries a `user_message` worded for a Discord member, says whether the
call may be retried, and never holds the API token or request headers.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RunComfyError(Exception):
    """Base class. `str(error)` is safe to log; `user_message` is safe to show users."""

    retryable: ClassVar[bool] = False
    default_user_message: ClassVar[str] = "RunComfy could not process the request."

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_code: int | None = None,
        user_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error_code = error_code
        self.user_message = user_message or self.default_user_message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self)!r}, http_status={self.http_status}, "
            f"error_code={self.error_code})"
        )


class AuthenticationError(RunComfyError):
    """401, 403001 or error codes 400004 / 401001: the token is bad, expired or not allowed."""

    default_user_message = (
        "RunComfy refused the bot's API token, so nothing was generated or charged. "
        "A server admin needs to check the bot's RUNCOMFY_API_TOKEN."
    )


class InsufficientBalanceError(RunComfyError):
    """402 or error code 400002."""

    default_user_message = (
        "The RunComfy account behind this bot is out of credit, so the video was not "
        "started and nothing was charged. Ask a server admin to top it up."
    )


class InvalidInputError(RunComfyError):
    """400 / 422 (or 400001 / 422001): RunComfy refused the inputs; `detail` says why."""

    default_user_message = "RunComfy refused the video settings."

    def __init__(self, message: str, *, detail: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.detail = detail


class RequestNotFoundError(RunComfyError):
    """404 or error code 404001: the request id is unknown or has expired."""

    default_user_message = (
        "RunComfy no longer knows this job (its request id is unknown or has expired)."
    )


class RateLimitedError(RunComfyError):
    """429: RunComfy asks us to slow down, maybe saying for how long."""

    retryable = True
    default_user_message = "RunComfy is busy right now and asked the bot to slow down."

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(RunComfyError):
    """5xx or error code 500001: a fault on RunComfy's side."""

    retryable = True
    default_user_message = "RunComfy had a server error."


class TransportError(RunComfyError):
    """No usable answer: timeout, connection reset or refused, or a body that is not JSON."""

    retryable = True
    default_user_message = "The bot could not get an answer from RunComfy."

    def __init__(self, message: str, *, request_sent: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent


class SubmitOutcomeUnknownError(RunComfyError):
    """A submit that may or may not have reached RunComfy. Never retried: a retry may bill twice."""

    default_user_message = (
        "The connection to RunComfy broke while the job was being sent, so the bot cannot "
        "tell whether RunComfy accepted it. It was not sent again, to avoid paying twice. "
        "Check the RunComfy dashboard before trying again."
    )


class InvalidRequestIdError(RunComfyError, ValueError):
    """A request id that does not look like one; refused before it goes into a URL."""

    default_user_message = "The job's RunComfy request id is not valid."
