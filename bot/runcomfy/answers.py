"""RunComfy's answers read as one error taxonomy: `error_from_response` maps an HTTP status,
its headers and its JSON body onto the errors of `bot.runcomfy.errors` (or None for a usable
answer), whichever of the four calls it answers. Server text is kept to one short line, with
the token redacted, before it lands in an exception.
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from bot.runcomfy.errors import (
    AuthenticationError,
    InsufficientBalanceError,
    InvalidInputError,
    RateLimitedError,
    RequestNotFoundError,
    RunComfyError,
    ServerError,
    TransportError,
)

MAX_ANSWER_BYTES = 1024 * 1024
"""API answers are small JSON documents; anything bigger is a broken or hostile server."""
MAX_SERVER_TEXT = 300

_BY_CODE: dict[int, type[RunComfyError]] = {
    400001: InvalidInputError,
    400002: InsufficientBalanceError,
    400004: AuthenticationError,
    401001: AuthenticationError,
    403001: AuthenticationError,
    404001: RequestNotFoundError,
    422001: InvalidInputError,
    500001: ServerError,
}
_BY_HTTP_STATUS: dict[int, type[RunComfyError]] = {
    400: InvalidInputError,
    401: AuthenticationError,
    402: InsufficientBalanceError,
    403: AuthenticationError,
    404: RequestNotFoundError,
    422: InvalidInputError,
    429: RateLimitedError,
}


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from `now`: either delta-seconds or an HTTP-date."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _error_code(body: object) -> int | None:
    """The numeric `error_code`, if any; 0 is read as "no error", as some APIs send it."""
    if not isinstance(body, Mapping):
        return None
    code = body.get("error_code")
    if isinstance(code, bool):
        return None
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code.strip())
    if isinstance(code, int) and code != 0:
        return code
    return None


def one_line(text: str, redact: Callable[[str], str]) -> str:
    text = " ".join(redact(text).split())
    return text if len(text) <= MAX_SERVER_TEXT else text[: MAX_SERVER_TEXT - 3] + "..."


def _field_name(loc: object) -> str:
    if isinstance(loc, str):
        return loc
    if isinstance(loc, list | tuple):
        parts = [str(part) for part in loc if part != "body"]
        return ".".join(parts) if parts else "input"
    return "input"


def describe_detail(detail: object) -> str | None:
    """Validation `detail` in words: `duration: must be ≤ 15; prompt: field required`."""
    if isinstance(detail, str):
        return detail or None
    if isinstance(detail, Mapping):
        detail = [detail]
    if not isinstance(detail, list):
        return None
    parts = []
    for item in detail:
        if isinstance(item, Mapping):
            message = item.get("msg") or item.get("message") or "invalid"
            parts.append(f"{_field_name(item.get('loc'))}: {message}")
        elif isinstance(item, str):
            parts.append(item)
    return "; ".join(parts) or None


def _server_text(body: object) -> str | None:
    if not isinstance(body, Mapping):
        return None
    for key in ("error_message", "message", "error", "detail"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, Mapping):
            nested = value.get("message") or value.get("error_message")
            if isinstance(nested, str) and nested.strip():
                return nested
    return None


def _error_class(http_status: int, code: int | None) -> type[RunComfyError] | None:
    if http_status == 429:
        return RateLimitedError
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    if http_status in _BY_HTTP_STATUS:
        return _BY_HTTP_STATUS[http_status]
    if http_status >= 500:
        return ServerError
    if code is not None:
        family = code // 1000
        if family in _BY_HTTP_STATUS:
            return _BY_HTTP_STATUS[family]
        return ServerError if family >= 500 else RunComfyError
    if not 200 <= http_status < 300:
        return RunComfyError
    return None


def _no_redaction(text: str) -> str:
    return text


def error_from_response(
    http_status: int,
    headers: Mapping[str, str],
    body: object,
    *,
    now: float,
    redact: Callable[[str], str] = _no_redaction,
) -> RunComfyError | None:
    """Map one HTTP answer to an error, or None when it is a usable JSON object.

    `body` is the parsed JSON, or None when the answer was empty or not JSON. An
    `error_code` wins over a 2xx status (RunComfy sends some errors with HTTP 200),
    known codes win over the HTTP status, and 429 is always "slow down".
    """
    code = _error_code(body)
    error_class = _error_class(http_status, code)
    if error_class is None:
        if isinstance(body, Mapping):
            return None
        return TransportError(
            f"RunComfy answered HTTP {http_status} with a body that is not a JSON object",
            http_status=http_status,
            request_sent=True,
        )

    summary = f"RunComfy answered HTTP {http_status}"
    if code is not None:
        summary += f" with error_code {code}"
    text = _server_text(body)
    detail = body.get("detail") if isinstance(body, Mapping) else None
    kwargs: dict[str, Any] = {"http_status": http_status, "error_code": code}

    if error_class is InvalidInputError:
        reason = one_line(describe_detail(detail) or text or "", redact) or None
        return InvalidInputError(
            f"{summary}: invalid input: {reason or 'no reason given'}",
            detail=detail,
            reason=reason,
            **kwargs,
        )
    message = f"{summary}: {one_line(text, redact)}" if text else summary
    if error_class is RateLimitedError:
        retry_after = parse_retry_after(headers.get("Retry-After"), now)
        if retry_after is not None:
            message += f" (Retry-After {retry_after:g} s)"
        return RateLimitedError(message, retry_after=retry_after, **kwargs)
    return error_class(message, **kwargs)


def parse_json(raw: bytes) -> object:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return None


async def read_capped(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise TransportError(
                f"RunComfy's answer is larger than {MAX_ANSWER_BYTES} bytes",
                http_status=response.status,
            )
        chunks.append(chunk)
    return b"".join(chunks)
