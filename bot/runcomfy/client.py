"""The HTTP client for RunComfy's Model API (Kling 3.0 standard text-to-video).

Four calls: `submit`, `status`, `result`, `cancel`. Every answer goes through one
function, `error_from_response` (`bot.runcomfy.answers`), so all calls share one error
taxonomy. status, result and cancel are retried (they are safe to repeat); submit never
is, because a second POST may be a second bill: when its outcome is unknown it raises
`SubmitOutcomeUnknownError` and leaves the decision to a person.

The token lives in a `Secret` and is only revealed into the Authorization header of
each request; headers are never logged, and any server text that echoes the token is
redacted before it lands in an exception.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import aiohttp

from bot.network import Cause, cause_of
from bot.runcomfy.answers import error_from_response, one_line, parse_json, read_capped
from bot.runcomfy.errors import (
    ErrorKind,
    InvalidRequestIdError,
    RateLimitedError,
    RunComfyError,
    ServerError,
    SubmitOutcomeUnknownError,
    TransportError,
)
from bot.runcomfy.gate import RequestGate
from bot.runcomfy.request import MODEL_ID, KlingRequest
from bot.runcomfy.responses import CancelResult, JobResult, StatusResult, SubmitResult
from bot.runcomfy.retry import RetryPolicy
from bot.runcomfy.timing import Clock

logger = logging.getLogger(__name__)

SUBMIT_PATH = f"/v1/models/{MODEL_ID}"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
DEFAULT_RETRY = RetryPolicy()
SUBMIT_UNKNOWN_HTTP_STATUSES = frozenset({502, 504})
"""Gateway answers: the gateway may have passed the submit on before failing."""


def validate_request_id(request_id: object) -> str:
    """Refuse anything that is not `[A-Za-z0-9_-]{1,128}` before it goes into a URL path."""
    if not isinstance(request_id, str) or not REQUEST_ID_PATTERN.fullmatch(request_id):
        shown = request_id if isinstance(request_id, str) else type(request_id).__name__
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise InvalidRequestIdError(f"not a RunComfy request id: {shown!r}")
    return request_id


class Credential(Protocol):
    """A token holder whose reprs hide the token (the bot's `Secret`)."""

    def reveal(self) -> str: ...


class ExchangeObserver(Protocol):
    """Told of every HTTP exchange with RunComfy, retries included (e.g. to count them).

    `call` is "submit", "status", "result" or "cancel"; `error` is None for a usable
    answer; `seconds` is the exchange's own time (not the wait for the traffic gate).
    Must return at once."""

    def exchanged(self, call: str, error: ErrorKind | None, seconds: float) -> None: ...


BeforeSending = Callable[[], Awaitable[None]]
"""Awaited with the gate's slot held, right before a submit goes out."""


class RunComfyClient:
    """Talks to RunComfy through a shared `aiohttp.ClientSession` it does not own."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        token: Credential,
        clock: Clock,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        gate: RequestGate | None = None,
        rng: random.Random | None = None,
        observer: ExchangeObserver | None = None,
    ) -> None:
        if isinstance(token, str) or not callable(getattr(token, "reveal", None)):
            raise TypeError("token must be a Secret, so it cannot leak through reprs")
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._clock = clock
        self.retry = retry
        self.gate = gate if gate is not None else RequestGate(clock)
        self._rng = rng if rng is not None else random.Random()
        self._observer = observer
        self.timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        self.submit_timeout = aiohttp.ClientTimeout(
            total=connect_timeout + read_timeout,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        """A submit ends (its outcome unknown) once the connect and read timeouts together
        have passed, however its answer trickles in: another process that takes the job
        over waits that long for it (see `bot.jobs.recovery`)."""

    def __repr__(self) -> str:
        return f"RunComfyClient(base_url={self.base_url!r}, token={self._token!r})"

    def _redact(self, text: str) -> str:
        secret = self._token.reveal()
        return text.replace(secret, "***") if secret else text

    async def submit(
        self, request: KlingRequest, *, before_sending: BeforeSending | None = None
    ) -> SubmitResult:
        """Send one paid job, exactly once. Raises `SubmitOutcomeUnknownError` when unsure.

        `before_sending` is awaited once the request has its turn at the gate, right before
        it goes out: the caller records "being sent" there, so the record is true from the
        moment it is made (waiting at the gate is still waiting). If it raises, nothing
        is sent and its error comes back to the caller."""
        try:
            body = await self._attempt(
                "submit",
                "POST",
                SUBMIT_PATH,
                json_body=request.to_payload(),
                before_sending=before_sending,
                timeouts=self.submit_timeout,
            )
        except TransportError as error:
            if not error.request_sent:
                raise
            raise self._unknown(error) from None
        except ServerError as error:
            if error.http_status in SUBMIT_UNKNOWN_HTTP_STATUSES:
                raise self._unknown(error) from None
            raise
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not REQUEST_ID_PATTERN.fullmatch(request_id):
            raise SubmitOutcomeUnknownError(
                "RunComfy answered the submit without a usable request_id", http_status=200
            )
        logger.info("RunComfy accepted job %s", request_id)

        def url(key: str) -> str | None:
            value = body.get(key)
            return value if isinstance(value, str) and value else None

        return SubmitResult(
            request_id=request_id,
            status_url=url("status_url"),
            result_url=url("result_url"),
            cancel_url=url("cancel_url"),
        )

    async def status(self, request_id: str) -> StatusResult:
        request_id = validate_request_id(request_id)
        body = await self._retrying("status", "GET", f"/v1/requests/{request_id}/status")
        return StatusResult.from_json(request_id, body)

    async def result(self, request_id: str) -> JobResult:
        """Outputs, cost and timestamps; before completion only the current status."""
        request_id = validate_request_id(request_id)
        body = await self._retrying(
            "result", "GET", f"/v1/requests/{request_id}/result", params={"include_cost": "true"}
        )
        return JobResult.from_json(request_id, body)

    async def cancel(self, request_id: str) -> CancelResult:
        request_id = validate_request_id(request_id)
        body = await self._retrying("cancel", "POST", f"/v1/requests/{request_id}/cancel")
        return CancelResult.from_json(body)

    def _unknown(self, error: RunComfyError) -> SubmitOutcomeUnknownError:
        logger.warning("Submit outcome unknown, not retrying: %s", error)
        return SubmitOutcomeUnknownError(
            f"the submit's outcome is unknown ({error})",
            http_status=error.http_status,
            cause=error.cause if isinstance(error, TransportError) else Cause.OTHER,
        )

    async def _retrying(
        self, call: str, method: str, path: str, *, params: Mapping[str, str] | None = None
    ) -> Mapping[str, Any]:
        async def once() -> Mapping[str, Any]:
            return await self._attempt(call, method, path, params=params)

        return await self.retry.run(
            once, clock=self._clock, rng=self._rng, description=f"{method} {path}"
        )

    async def _attempt(
        self,
        call: str,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        before_sending: BeforeSending | None = None,
        timeouts: aiohttp.ClientTimeout | None = None,
    ) -> Mapping[str, Any]:
        """Exactly one HTTP exchange through the gate, mapped to a JSON object or an error;
        the observer is told of it either way."""
        headers = {
            "Authorization": f"Bearer {self._token.reveal()}",
            "Accept": "application/json",
        }
        async with self.gate.slot():
            if before_sending is not None:
                await before_sending()
            started = self._clock.monotonic()
            try:
                async with self._session.request(
                    method,
                    self.base_url + path,
                    json=json_body,
                    params=params,
                    headers=headers,
                    timeout=timeouts or self.timeout,
                    allow_redirects=False,
                    raise_for_status=False,
                ) as response:
                    raw = await read_capped(response)
                    http_status = response.status
                    response_headers: Mapping[str, str] = response.headers
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                error = self._transport_error(method, path, exc, request_sent=False)
                self._observe(call, error, started)
                raise error from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                error = self._transport_error(method, path, exc, request_sent=True)
                self._observe(call, error, started)
                raise error from None
            except TransportError as error:
                self._observe(call, error, started)
                raise
        seconds = self._clock.monotonic() - started
        logger.debug("%s %s -> HTTP %d in %.3f s", method, path, http_status, seconds)
        body = parse_json(raw)
        mapped = error_from_response(
            http_status, response_headers, body, now=self._clock.now(), redact=self._redact
        )
        self._observe(call, mapped, started)
        if mapped is None:
            assert isinstance(body, Mapping)
            return body
        if isinstance(mapped, RateLimitedError) and mapped.retry_after:
            self.gate.pause(mapped.retry_after)
        logger.debug("%s %s failed: %r", method, path, mapped)
        raise mapped

    def _observe(self, call: str, error: RunComfyError | None, started: float) -> None:
        if self._observer is None:
            return
        try:
            kind = None if error is None else error.kind
            self._observer.exchanged(call, kind, self._clock.monotonic() - started)
        except Exception:
            logger.exception("the RunComfy observer failed")

    def _transport_error(
        self, method: str, path: str, exc: BaseException, *, request_sent: bool
    ) -> TransportError:
        what = str(exc) or "no details"
        reason = "could not connect" if not request_sent else "no usable answer"
        message = f"{method} {path}: {reason}: {type(exc).__name__}: {one_line(what, self._redact)}"
        logger.debug("%s", message)
        return TransportError(message, request_sent=request_sent, cause=cause_of(exc))
