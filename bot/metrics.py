"""Prometheus metrics of one bot process, in a registry of its own (no global state).

`BotMetrics` is told what happens through the ports the rooms already have, so neither
`bot/runcomfy/` nor `bot/jobs/` knows about Prometheus:

- RunComfy traffic: the client's `ExchangeObserver` (every HTTP exchange, retries
  included, by call and outcome, and errors by `ErrorKind`);
- jobs: a collector that counts the tracker's unfinished jobs by state at scrape time
  (nothing to keep in step), and the tracker's `JobObserver` for finished jobs and the
  delivery lag;
- Discord: an `aiohttp.TraceConfig` that discord.py puts on its own HTTP session
  (`http_trace=`), which sees every REST and webhook answer, so every 429 is counted
  whether discord.py retries it or not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from bot.jobs.model import FINAL_STATES, Job, JobState
from bot.runcomfy.errors import ErrorKind

PREFIX = "kling_bot"
RUNCOMFY_CALLS = ("submit", "status", "result", "cancel")
RATE_LIMIT_SCOPES = ("user", "global", "shared")
"""Discord's `X-RateLimit-Scope` values; anything else (a Cloudflare 429) is "other"."""
DELIVERY_LAG_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
REQUEST_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OPEN_STATES = tuple(state for state in JobState if state not in FINAL_STATES)


class JobsByState:
    """The tracker's unfinished jobs by state, counted when Prometheus asks."""

    def __init__(self, jobs: Callable[[], Iterable[Job]]) -> None:
        self._jobs = jobs

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [self._family()]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = dict.fromkeys(OPEN_STATES, 0)
        for job in self._jobs():
            if job.state in counts:
                counts[job.state] += 1
        family = self._family()
        for state, count in counts.items():
            family.add_metric([state.value], count)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            f"{PREFIX}_jobs",
            "Unfinished jobs this process holds, by state.",
            labels=["state"],
        )


def finished_now(job: Job) -> bool:
    """Whether this change of `job` is the one that moved it into its final state.

    A transition records its time both as the job's `updated_at` and as the time it
    entered the new state; a later change of a finished job (a message id, a note)
    moves only `updated_at`. So each finish is counted once, with no memory of past
    changes, whichever process made the earlier ones."""
    return job.state in FINAL_STATES and job.entered(job.state) == job.updated_at


class BotMetrics:
    """Every metric of one bot process, and the hooks that feed them."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self._jobs_collector: JobsByState | None = None
        self.jobs_finished = Counter(
            f"{PREFIX}_jobs_finished",
            "Jobs that reached a final state in this process, by that state.",
            ["state"],
            registry=registry,
        )
        self.runcomfy_requests = Counter(
            f"{PREFIX}_runcomfy_requests",
            "HTTP requests to RunComfy (retries included), by call and outcome (ok or error).",
            ["call", "outcome"],
            registry=registry,
        )
        self.runcomfy_errors = Counter(
            f"{PREFIX}_runcomfy_errors",
            "RunComfy requests that failed, by call and error kind.",
            ["call", "kind"],
            registry=registry,
        )
        self.runcomfy_seconds = Histogram(
            f"{PREFIX}_runcomfy_request_seconds",
            "Time of one HTTP exchange with RunComfy, by call.",
            ["call"],
            buckets=REQUEST_SECONDS_BUCKETS,
            registry=registry,
        )
        self.delivery_lag = Histogram(
            f"{PREFIX}_delivery_lag_seconds",
            "Seconds from the bot seeing a video finished at RunComfy to the video posted.",
            buckets=DELIVERY_LAG_BUCKETS,
            registry=registry,
        )
        self.discord_rate_limited = Counter(
            f"{PREFIX}_discord_rate_limited",
            "HTTP 429 answers from Discord (REST and interaction webhooks), by scope.",
            ["scope"],
            registry=registry,
        )
        for call in RUNCOMFY_CALLS:
            for outcome in ("ok", "error"):
                self.runcomfy_requests.labels(call=call, outcome=outcome)
        for scope in (*RATE_LIMIT_SCOPES, "other"):
            self.discord_rate_limited.labels(scope=scope)
        for state in FINAL_STATES:
            self.jobs_finished.labels(state=state.value)

    # ----------------------------------------------------------------- jobs

    def count_jobs(self, jobs: Callable[[], Iterable[Job]]) -> None:
        """Count these jobs by state at every scrape (the tracker's `open_jobs`)."""
        if self._jobs_collector is not None:
            self.registry.unregister(self._jobs_collector)
        self._jobs_collector = JobsByState(jobs)
        self.registry.register(self._jobs_collector)

    def job_changed(self, job: Job) -> None:
        """The tracker's `JobObserver`: counts finishes and times deliveries."""
        if not finished_now(job):
            return
        self.jobs_finished.labels(state=job.state.value).inc()
        completed = job.entered(JobState.COMPLETED)
        delivered = job.entered(JobState.DELIVERED)
        if job.state is JobState.DELIVERED and completed is not None and delivered is not None:
            self.delivery_lag.observe(max(0.0, delivered - completed))

    # ------------------------------------------------------------- RunComfy

    def exchanged(self, call: str, error: ErrorKind | None, seconds: float) -> None:
        """The RunComfy client's `ExchangeObserver`."""
        self.runcomfy_requests.labels(call=call, outcome="ok" if error is None else "error").inc()
        self.runcomfy_seconds.labels(call=call).observe(max(0.0, seconds))
        if error is not None:
            self.runcomfy_errors.labels(call=call, kind=error.value).inc()

    # -------------------------------------------------------------- Discord

    def discord_trace(self) -> aiohttp.TraceConfig:
        """For discord.py's `http_trace=`: counts every 429 its HTTP session receives."""
        trace = aiohttp.TraceConfig()

        async def on_request_end(
            session: aiohttp.ClientSession,
            context: SimpleNamespace,
            params: aiohttp.TraceRequestEndParams,
        ) -> None:
            if params.response.status == 429:
                self.discord_rate_limited.labels(scope=rate_limit_scope(params.response)).inc()

        trace.on_request_end.append(on_request_end)
        return trace


def rate_limit_scope(response: aiohttp.ClientResponse) -> str:
    """Discord's scope of a 429, from a fixed set (a header must not mint new series)."""
    if response.headers.get("X-RateLimit-Global", "").lower() == "true":
        return "global"
    scope = response.headers.get("X-RateLimit-Scope", "").lower()
    return scope if scope in RATE_LIMIT_SCOPES else "other"
