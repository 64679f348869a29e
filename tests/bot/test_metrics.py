"""The process's Prometheus metrics: what each hook counts, read back as Prometheus would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.jobs.model import Job, JobState, NoticeState
from bot.metrics import BotMetrics
from bot.runcomfy.errors import ErrorKind
from tests.bot.jobs.factories import make_job


def samples(metrics: BotMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the registry's text output, parsed back."""
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: BotMetrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, frozenset(labels.items()))]


def delivered(job_id: int = 1, *, completed_at: float, delivered_at: float) -> Job:
    job = make_job(job_id, state=JobState.RUNNING, at=completed_at - 60)
    job = job.transition(JobState.COMPLETED, completed_at, notice=NoticeState.PENDING)
    return job.update(delivered_at, notice=NoticeState.SENT).transition(
        JobState.DELIVERED, delivered_at
    )


def test_jobs_are_counted_by_state_when_scraped() -> None:
    metrics = BotMetrics()
    jobs = [make_job(1, state=JobState.WAITING), make_job(2, state=JobState.WAITING)]
    metrics.count_jobs(lambda: jobs)
    assert value(metrics, "kling_bot_jobs", state="waiting") == 2
    assert value(metrics, "kling_bot_jobs", state="running") == 0
    jobs.append(make_job(3, state=JobState.RUNNING))
    assert value(metrics, "kling_bot_jobs", state="running") == 1
    assert ("kling_bot_jobs", frozenset({("state", "delivered")})) not in samples(metrics)


def test_a_finish_is_counted_once_and_a_delivery_timed() -> None:
    metrics = BotMetrics()
    job = delivered(completed_at=2_000.0, delivered_at=2_012.5)
    metrics.job_changed(job)
    metrics.job_changed(job.update(2_100.0, deleted_by=5))
    assert value(metrics, "kling_bot_jobs_finished_total", state="delivered") == 1
    assert value(metrics, "kling_bot_jobs_finished_total", state="failed") == 0
    assert value(metrics, "kling_bot_delivery_lag_seconds_count") == 1
    assert value(metrics, "kling_bot_delivery_lag_seconds_sum") == 12.5
    assert value(metrics, "kling_bot_delivery_lag_seconds_bucket", le="20.0") == 1
    assert value(metrics, "kling_bot_delivery_lag_seconds_bucket", le="10.0") == 0


def test_only_a_final_state_counts_as_finished() -> None:
    metrics = BotMetrics()
    job = make_job(state=JobState.RUNNING, at=5.0)
    metrics.job_changed(job)
    metrics.job_changed(job.transition(JobState.COMPLETED, 6.0))
    failed = make_job(2, state=JobState.QUEUED).transition(JobState.FAILED, 7.0)
    metrics.job_changed(failed)
    assert value(metrics, "kling_bot_jobs_finished_total", state="failed") == 1
    assert value(metrics, "kling_bot_jobs_finished_total", state="delivered") == 0
    assert value(metrics, "kling_bot_delivery_lag_seconds_count") == 0


def test_runcomfy_exchanges_by_call_outcome_and_error_kind() -> None:
    metrics = BotMetrics()
    metrics.exchanged("submit", None, 0.2)
    metrics.exchanged("status", None, 0.1)
    metrics.exchanged("status", ErrorKind.RATE_LIMITED, 0.1)
    metrics.exchanged("status", ErrorKind.RATE_LIMITED, 0.1)
    assert value(metrics, "kling_bot_runcomfy_requests_total", call="submit", outcome="ok") == 1
    assert value(metrics, "kling_bot_runcomfy_requests_total", call="status", outcome="ok") == 1
    assert value(metrics, "kling_bot_runcomfy_requests_total", call="status", outcome="error") == 2
    assert value(metrics, "kling_bot_runcomfy_requests_total", call="cancel", outcome="ok") == 0
    assert (
        value(metrics, "kling_bot_runcomfy_errors_total", call="status", kind="rate_limited") == 2
    )
    assert value(metrics, "kling_bot_runcomfy_request_seconds_count", call="status") == 3


def test_two_bots_in_one_process_keep_their_own_numbers() -> None:
    first, second = BotMetrics(), BotMetrics()
    first.exchanged("submit", None, 0.1)
    assert value(first, "kling_bot_runcomfy_requests_total", call="submit", outcome="ok") == 1
    assert value(second, "kling_bot_runcomfy_requests_total", call="submit", outcome="ok") == 0


@pytest.fixture
async def discordish() -> AsyncIterator[TestServer]:
    """Answers /limited with a 429 whose headers name `scope`, /fine with 200."""

    async def limited(request: web.Request) -> web.Response:
        headers = {"X-RateLimit-Scope": request.query.get("scope", "user"), "Retry-After": "1"}
        if request.query.get("global"):
            headers["X-RateLimit-Global"] = "true"
        return web.json_response({"retry_after": 1.0}, status=429, headers=headers)

    async def fine(request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/limited", limited)
    app.router.add_get("/fine", fine)
    async with TestServer(app, host="127.0.0.1") as server:
        yield server


async def test_discord_429s_are_counted_by_scope(discordish: TestServer) -> None:
    metrics = BotMetrics()
    async with aiohttp.ClientSession(trace_configs=[metrics.discord_trace()]) as session:
        for query in ("", "?scope=shared", "?global=1", "?scope=made-up", ""):
            async with session.get(discordish.make_url("/limited" + query)) as response:
                assert response.status == 429
        async with session.get(discordish.make_url("/fine")) as response:
            assert response.status == 200
    rate_limited = "kling_bot_discord_rate_limited_total"
    assert value(metrics, rate_limited, scope="user") == 2
    assert value(metrics, rate_limited, scope="shared") == 1
    assert value(metrics, rate_limited, scope="global") == 1
    assert value(metrics, rate_limited, scope="other") == 1
