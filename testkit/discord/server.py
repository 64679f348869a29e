"""The aiohttp app: REST routes wrapped with auth, outage, rate limits and logging; gateway; CDN."""

from __future__ import annotations

import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import errors
from .errors import DiscordHTTPError
from .ratelimit import Verdict
from .records import ErrorRecord, RequestRecord
from .responses import json_response
from .state import FakeState

API_PREFIX = "/api/v10"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One REST route. ``bucket`` names a shared rate-limit bucket (default: per route),
    ``major`` the path parameter that keys it, ``channel_bucket`` applies the configured
    per-channel message limit, ``outage`` lets ``set_outage`` fail it."""

    method: str
    path: str
    handler: Handler
    auth: bool = True
    bucket: str | None = None
    major: str | None = None
    channel_bucket: bool = False
    outage: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class FakeServer:
    """Serves REST under ``/api/v10``, the gateway on ``/`` and ``/resume``, files on ``/cdn``."""

    def __init__(
        self, state: FakeState, routes: list[Route], cdn: Handler, host: str = "127.0.0.1"
    ) -> None:
        self.state = state
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        for route in routes:
            self.app.router.add_route(route.method, API_PREFIX + route.path, self._wrap(route))
        self.app.router.add_get("/", state.hub.handle)
        self.app.router.add_get("/resume", state.hub.handle)
        self.app.router.add_get("/cdn/attachments/{channel_id}/{attachment_id}/{filename}", cdn)
        self.app.router.add_route("*", "/{tail:.*}", self._unknown)

    async def start(self) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self.port

    async def close(self) -> None:
        await self.state.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _wrap(self, route: Route) -> Handler:
        state = self.state
        bucket = route.bucket or route.label
        limit, per = (
            state.config.channel_rate_limit
            if route.channel_bucket
            else state.config.route_rate_limit
        )
        expected_auth = f"Bot {state.config.bot_token}"

        async def handle(request: web.Request) -> web.StreamResponse:
            started = time.monotonic()
            verdict: Verdict | None = None
            try:
                if route.auth and request.headers.get("Authorization") != expected_auth:
                    raise errors.unauthorized()
                if route.outage and state.outage_status is not None:
                    raise errors.server_error(state.outage_status)
                key = request.match_info.get(route.major, "") if route.major else ""
                verdict = state.limiter.hit(bucket, key, limit, per)
                if not verdict.allowed:
                    state.rate_limited_count += 1
                    self._record_error(request, 429, None, "You are being rate limited.")
                    response: web.StreamResponse = json_response(
                        verdict.body(), 429, verdict.rejection_headers()
                    )
                else:
                    if route.channel_bucket and verdict.remaining == 0:
                        state.channel_bucket_exhausted += 1
                    response = await route.handler(request)
                    response.headers.update(verdict.headers())
            except ConnectionResetError:
                # The client went away mid-request (a bot process killed during an upload):
                # nothing happens, as at Discord, and nobody is left to read an answer.
                response = web.Response(status=499, reason="Client Closed Request")
            except DiscordHTTPError as exc:
                headers = verdict.headers() if verdict is not None and verdict.allowed else None
                response = json_response(exc.body(), exc.status, headers)
                if exc.status < 500:
                    self._record_error(request, exc.status, exc.code, exc.message, exc.errors)
            self._record(request, route.label, response.status, started)
            return response

        return handle

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        self._record_error(request, 404, 0, "404: Not Found")
        record = self._record(request, f"{request.method} <unknown>", 404, started)
        self.state.unknown_routes.append(record)
        return json_response(errors.route_not_found().body(), 404)

    def _record(
        self, request: web.Request, label: str, status: int, started: float
    ) -> RequestRecord:
        now = time.monotonic()
        record = RequestRecord(request.method, request.path, label, status, now, now - started)
        self.state.requests.append(record)
        return record

    def _record_error(
        self,
        request: web.Request,
        status: int,
        code: int | None,
        message: str,
        form: dict[str, Any] | None = None,
    ) -> None:
        self.state.errors.append(
            ErrorRecord(request.method, request.path, status, code, message, time.monotonic(), form)
        )
