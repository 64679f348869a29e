"""The HTTP endpoint orchestrators ask (HEALTH_PORT): alive, ready, and the metrics.

- `GET /healthz`: liveness — the process answers and the job scheduler runs. A failing
  liveness is worth a restart.
- `GET /readyz`: readiness — the Discord gateway is connected, the database answers (and
  takes writes), the scheduler runs.
- `GET /metrics`: Prometheus text from the process's own registry (`bot.metrics`).

Both health answers are JSON naming every check, `{"status": "ok"|"failing", "checks":
{name: {"ok": bool, "problem": str?}}}`, with HTTP 200 or 503. Each check runs under a
short timeout, so a hung database makes the answer "failing", never a hung probe.

Whoever reaches the port gets a bounded share of the process: few connections, short
timeouts and small requests (`bot.health_guard`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.aiohttp import make_aiohttp_handler

from bot.config import ConfigError, HealthSettings
from bot.health_guard import ConnectionGuard, GuardedSite, GuardLimits
from bot.open_files import raise_open_files

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[str | None]]
"""One check: None when fine, else what is wrong, in a few words."""

CHECK_TIMEOUT = 2.0
"""Real seconds a check may take before it counts as failing."""
MAX_LINE_BYTES = 2048
"""The request line, and a header line (aiohttp answers 400 to a longer one)."""
MAX_HEADERS = 32
BAD_REQUESTS_REPORT_EVERY = 60.0
"""Seconds between two WARNINGs about malformed requests."""


class FoldedServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's per-request error log, folded: it logs every malformed request at ERROR
    with a traceback, so anyone who reaches the port could fill the log and the disk.
    Here they are counted and said in one WARNING at most once a minute (the first at
    once); aiohttp's debug lines pass through."""

    def __init__(self, logger: logging.Logger, *, every: float = BAD_REQUESTS_REPORT_EVERY):
        super().__init__(logger, {})
        self._every = every
        self._count = 0
        self._last_report: float | None = None

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._count += 1
        error = kwargs.get("exc_info")
        now = time.monotonic()
        if self._last_report is not None and now - self._last_report < self._every:
            return
        what = type(error).__name__ if isinstance(error, BaseException) else "an error"
        self.logger.warning(
            "health endpoint: %d malformed or failed requests answered with an error "
            "(the latest: %s; said at most once a minute)",
            self._count,
            what,
        )
        self._count = 0
        self._last_report = now


async def run_check(check: Check, seconds: float) -> dict[str, Any]:
    try:
        problem = await asyncio.wait_for(check(), seconds)
    except TimeoutError:
        problem = f"no answer within {seconds:g} s"
    except Exception as error:
        log.debug("health check failed", exc_info=True)
        problem = f"{type(error).__name__}: {error}"[:200]
    return {"ok": True} if problem is None else {"ok": False, "problem": problem}


async def run_checks(checks: Mapping[str, Check], seconds: float) -> tuple[bool, dict[str, Any]]:
    """Every check at once, each within `seconds`; whether all passed, and the JSON body."""
    results = await asyncio.gather(*(run_check(check, seconds) for check in checks.values()))
    named = dict(zip(checks, results, strict=True))
    healthy = all(result["ok"] for result in results)
    return healthy, {"status": "ok" if healthy else "failing", "checks": named}


class HealthServer:
    """`/healthz`, `/readyz` and `/metrics` on one small aiohttp server."""

    def __init__(
        self,
        *,
        live: Mapping[str, Check],
        ready: Mapping[str, Check],
        registry: CollectorRegistry,
        timeout: float = CHECK_TIMEOUT,
        limits: GuardLimits | None = None,
    ) -> None:
        self._live = dict(live)
        self._ready = dict(ready)
        self._registry = registry
        self._timeout = timeout
        self._limits = limits or GuardLimits()
        self._guard = ConnectionGuard(self._limits)
        self._runner: web.AppRunner | None = None

    @property
    def open_connections(self) -> int:
        return self._guard.open_connections

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self._limits.max_request_bytes)
        app.router.add_get("/healthz", self._answer(self._live))
        app.router.add_get("/readyz", self._answer(self._ready))
        app.router.add_get("/metrics", make_aiohttp_handler(self._registry))
        return app

    def _answer(self, checks: Mapping[str, Check]) -> Callable[[web.Request], Awaitable[Any]]:
        async def handler(request: web.Request) -> web.Response:
            healthy, body = await run_checks(checks, self._timeout)
            return web.json_response(body, status=200 if healthy else 503)

        return handler

    async def start(self, settings: HealthSettings) -> None:
        """Listen; a port that cannot be had is a `ConfigError` naming HEALTH_PORT."""
        runner = web.AppRunner(
            self.app(),
            access_log=None,
            handle_signals=False,
            keepalive_timeout=self._limits.idle_seconds,
            max_line_size=MAX_LINE_BYTES,
            max_field_size=MAX_LINE_BYTES,
            max_headers=MAX_HEADERS,
            logger=FoldedServerLog(logging.getLogger("aiohttp.server")),
        )
        await runner.setup()
        site = GuardedSite(runner, settings.host, settings.port, self._guard)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            where = f"{settings.host}:{settings.port}"
            reason = error.strerror or str(error)
            raise ConfigError(
                "HEALTH_PORT",
                f"is {settings.port}, but the health endpoint cannot listen on {where}: "
                f"{reason}. Pick a free port (or HEALTH_HOST), or unset HEALTH_PORT.",
            ) from error
        self._runner = runner
        log.info("health endpoint on http://%s:%d (/healthz, /readyz, /metrics)", *self.address)

    @property
    def address(self) -> tuple[str, int]:
        """The host and port listened on (the real port when HEALTH_PORT=0)."""
        if self._runner is None or not self._runner.addresses:
            raise RuntimeError("the health endpoint is not listening")
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


# ----------------------------------------------------------------------------- checks


def gateway_check(client: discord.Client) -> Check:
    """Connected to Discord's gateway: ready, not closed, and heartbeats answered (every
    shard's, when the client runs several)."""

    async def check() -> str | None:
        if client.is_closed():
            return "the client is closed"
        if not client.is_ready():
            return "not connected yet"
        if isinstance(client, discord.AutoShardedClient):
            for shard_id, shard in sorted(client.shards.items()):
                if shard.is_closed():
                    return f"shard {shard_id} is disconnected"
                if not math.isfinite(shard.latency):
                    return f"shard {shard_id} has no heartbeat answered yet"
            return None
        if client.ws is None or not client.ws.open:
            return "disconnected (reconnecting)"
        if not math.isfinite(client.latency):
            return "no heartbeat answered yet"
        return None

    return check


def database_check(ping: Callable[[], Awaitable[object]], writable: Callable[[], bool]) -> Check:
    """The database answers a cheap query, and the last write to it succeeded."""

    async def check() -> str | None:
        await ping()
        if not writable():
            return "the database refuses writes"
        return None

    return check


def scheduler_check(alive: Callable[[], bool]) -> Check:
    async def check() -> str | None:
        return None if alive() else "the job scheduler is not running"

    return check


async def serve_health(
    settings: HealthSettings,
    *,
    client: discord.Client,
    ping: Callable[[], Awaitable[object]],
    writable: Callable[[], bool],
    alive: Callable[[], bool],
    registry: CollectorRegistry,
) -> HealthServer:
    """The endpoint with the bot's checks, listening: liveness is the scheduler; readiness
    the gateway, the database and the scheduler. It may hold a small share of the files
    the process may open, raised first where the system allows."""
    open_files = raise_open_files()
    limits = GuardLimits.within(open_files.soft)
    scheduler = scheduler_check(alive)
    health = HealthServer(
        live={"scheduler": scheduler},
        ready={
            "gateway": gateway_check(client),
            "database": database_check(ping, writable),
            "scheduler": scheduler,
        },
        registry=registry,
        limits=limits,
    )
    await health.start(settings)
    log.info(
        "open files: %s; the health endpoint takes at most %d of them (%d connections, "
        "accepted %d at a time), the rest are kept for Discord, RunComfy and the database",
        open_files.describe(),
        limits.descriptors,
        limits.max_connections,
        limits.accept_batch,
    )
    return health
