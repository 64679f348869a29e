"""RunComfyClient against the emulator: the lifecycle, every fault knob, and no token leaks."""

from __future__ import annotations

import itertools
import logging
import random
import traceback
from decimal import Decimal

import aiohttp
import pytest

from bot.clock import ScaledClock
from bot.config import load_settings
from bot.runcomfy.client import RunComfyClient
from bot.runcomfy.errors import (
    AuthenticationError,
    ErrorKind,
    InsufficientBalanceError,
    InvalidInputError,
    InvalidRequestIdError,
    RateLimitedError,
    RequestNotFoundError,
    RunComfyError,
    ServerError,
    SubmitOutcomeUnknownError,
    TransportError,
)
from bot.runcomfy.request import KlingRequest
from bot.runcomfy.responses import CancelOutcome, RequestStatus
from bot.runcomfy.retry import RetryPolicy
from bot.secret import Secret
from testkit.runcomfy import (
    SAMPLE_MP4,
    Endpoint,
    Fault,
    JobOutcome,
    ManualClock,
    RunComfyEmulator,
)
from tests.bot.conftest import GENERATION_SECONDS, ClientFactory

REQUEST = KlingRequest(prompt="a lighthouse in a storm, waves crashing", duration=5)
CLOSED_PORT_URL = "http://127.0.0.1:9"


async def submitted(client: RunComfyClient) -> str:
    return (await client.submit(REQUEST)).request_id


# ---------------------------------------------------------------------- lifecycle


async def test_full_lifecycle_with_queue_positions_across_workers(
    client: RunComfyClient, emulator: RunComfyEmulator, clock: ManualClock
) -> None:
    submits = [await client.submit(REQUEST) for _ in range(5)]
    ids = [s.request_id for s in submits]
    assert submits[0].status_url == f"{emulator.base_url}/v1/requests/{ids[0]}/status"
    assert submits[0].cancel_url == f"{emulator.base_url}/v1/requests/{ids[0]}/cancel"

    states = [await client.status(rid) for rid in ids]
    assert [s.status for s in states] == [RequestStatus.IN_PROGRESS] * 2 + [
        RequestStatus.IN_QUEUE
    ] * 3
    assert [s.queue_position for s in states] == [None, None, 0, 1, 2]

    early = await client.result(ids[0])
    assert early.status is RequestStatus.IN_PROGRESS
    assert early.video_url is None

    clock.advance(GENERATION_SECONDS)
    states = [await client.status(rid) for rid in ids]
    assert [s.status for s in states] == [RequestStatus.COMPLETED] * 2 + [
        RequestStatus.IN_PROGRESS
    ] * 2 + [RequestStatus.IN_QUEUE]
    assert states[4].queue_position == 0

    clock.advance(2 * GENERATION_SECONDS)
    for rid in ids:
        result = await client.result(rid)
        assert result.status is RequestStatus.COMPLETED
        assert result.video_url == emulator.output_url(rid)
        assert result.cost == Decimal("0.63")
        assert result.created_at
        assert result.finished_at
    assert result.video_url is not None
    async with aiohttp.ClientSession() as session, session.get(result.video_url) as response:
        assert await response.read() == SAMPLE_MP4


async def test_failed_job_reports_its_error(
    client: RunComfyClient, emulator: RunComfyEmulator, clock: ManualClock
) -> None:
    emulator.script_outcomes(JobOutcome.fail("content policy"))
    rid = await submitted(client)
    clock.advance(GENERATION_SECONDS)
    assert (await client.status(rid)).status is RequestStatus.FAILED
    result = await client.result(rid)
    assert (result.status, result.error, result.video_url) == (
        RequestStatus.FAILED,
        "content policy",
        None,
    )


async def test_cancel_while_queued_and_while_running(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    running, _, queued = [await submitted(client) for _ in range(3)]
    answer = await client.cancel(queued)
    assert (answer.outcome, answer.status) == (CancelOutcome.CANCELLED, RequestStatus.CANCELLED)
    assert emulator.job(queued).status == "cancelled"
    answer = await client.cancel(running)
    assert (answer.outcome, answer.status) == (
        CancelOutcome.NOT_CANCELLABLE,
        RequestStatus.IN_PROGRESS,
    )
    assert emulator.job(running).status == "in_progress"


async def test_only_set_fields_reach_runcomfy(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    request = KlingRequest.parse(
        prompt="two shots",
        duration=6,
        aspect_ratio="1:1",
        sound=False,
        multi_prompt=[{"prompt": "a", "duration": 3}, {"prompt": "b", "duration": 3}],
    )
    rid = (await client.submit(request)).request_id
    assert emulator.job(rid).payload == request.to_payload()
    assert "cfg_scale" not in emulator.job(rid).payload


# -------------------------------------------------------------- submit is never retried


async def test_a_submit_that_times_out_is_not_retried_and_is_unknown(
    make_client: ClientFactory, emulator: RunComfyEmulator
) -> None:
    client = make_client(read_timeout=0.2)
    emulator.slow(Endpoint.SUBMIT, 1.0)
    with pytest.raises(SubmitOutcomeUnknownError):
        await client.submit(REQUEST)
    assert emulator.submit_count == 1
    assert len(emulator.jobs) == 1


@pytest.mark.parametrize("after_processing", [False, True])
async def test_a_submit_reset_is_not_retried_and_is_unknown(
    client: RunComfyClient, emulator: RunComfyEmulator, after_processing: bool
) -> None:
    emulator.reset(Endpoint.SUBMIT, after_processing=after_processing)
    with pytest.raises(SubmitOutcomeUnknownError):
        await client.submit(REQUEST)
    assert emulator.submit_count == 1
    assert len(emulator.jobs) == (1 if after_processing else 0)


@pytest.mark.parametrize("http_status", [502, 504])
async def test_submit_gateway_errors_are_unknown(
    client: RunComfyClient, emulator: RunComfyEmulator, http_status: int
) -> None:
    emulator.fail(Endpoint.SUBMIT, http_status, error_code=None)
    with pytest.raises(SubmitOutcomeUnknownError) as caught:
        await client.submit(REQUEST)
    assert caught.value.http_status == http_status
    assert emulator.submit_count == 1


@pytest.mark.parametrize("http_status", [500, 503])
async def test_submit_server_errors_are_not_retried(
    client: RunComfyClient, emulator: RunComfyEmulator, http_status: int
) -> None:
    emulator.fail(Endpoint.SUBMIT, http_status)
    with pytest.raises(ServerError) as caught:
        await client.submit(REQUEST)
    assert type(caught.value) is ServerError
    assert caught.value.http_status == http_status
    assert emulator.submit_count == 1


async def test_submit_non_json_200_is_unknown(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    emulator.non_json(Endpoint.SUBMIT)
    with pytest.raises(SubmitOutcomeUnknownError):
        await client.submit(REQUEST)
    assert emulator.submit_count == 1


async def test_submit_200_without_request_id_is_unknown(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    emulator.add_fault(Endpoint.SUBMIT, Fault("fail", http_status=200, message="accepted"))
    with pytest.raises(SubmitOutcomeUnknownError):
        await client.submit(REQUEST)
    assert emulator.submit_count == 1


async def test_submit_that_never_connected_is_a_transport_error(make_client: ClientFactory) -> None:
    client = make_client(base_url=CLOSED_PORT_URL)
    with pytest.raises(TransportError) as caught:
        await client.submit(REQUEST)
    assert type(caught.value) is TransportError
    assert caught.value.request_sent is False


async def test_submit_429_is_not_retried_and_pauses_the_gate(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    emulator.rate_limit(Endpoint.SUBMIT, retry_after=7)
    with pytest.raises(RateLimitedError) as caught:
        await client.submit(REQUEST)
    assert caught.value.retry_after == 7.0
    assert emulator.submit_count == 1
    assert client.gate.paused_for == pytest.approx(7.0)


@pytest.mark.parametrize("http_status", [402, 200])
async def test_insufficient_balance(
    client: RunComfyClient, emulator: RunComfyEmulator, http_status: int
) -> None:
    emulator.insufficient_balance(http_status=http_status)
    with pytest.raises(InsufficientBalanceError) as caught:
        await client.submit(REQUEST)
    assert caught.value.error_code == 400002
    assert emulator.submit_count == 1
    assert emulator.jobs == {}


async def test_emulator_catches_a_payload_bug_as_invalid_input(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    buggy = KlingRequest(prompt="fine")
    object.__setattr__(buggy, "duration", 20)
    with pytest.raises(InvalidInputError) as caught:
        await client.submit(buggy)
    assert "duration" in str(caught.value)
    assert "duration" in caught.value.reason
    assert caught.value.detail[0]["loc"] == ["body", "duration"]
    assert emulator.submit_count == 1


# --------------------------------------------------------- status/result/cancel retries


async def test_status_retried_through_a_429_storm_honouring_retry_after(
    make_client: ClientFactory,
) -> None:
    clock = ScaledClock(1000)
    async with RunComfyEmulator(clock=clock, generation_time=lambda p: 600.0) as emulator:
        client = make_client(on=emulator, use_clock=clock)
        rid = await submitted(client)
        emulator.rate_limit(Endpoint.STATUS, retry_after=2, times=3)
        answer = await client.status(rid)
        assert answer.status is RequestStatus.IN_PROGRESS
        times = [r.at for r in emulator.requests if r.endpoint is Endpoint.STATUS]
        assert len(times) == 4
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= 2.0 - 1e-3 for gap in gaps), gaps
        assert client.gate.pauses >= 1


async def test_a_429_pauses_other_callers_too(make_client: ClientFactory) -> None:
    clock = ScaledClock(1000)
    async with RunComfyEmulator(clock=clock, generation_time=lambda p: 600.0) as emulator:
        client = make_client(on=emulator, use_clock=clock)
        impatient = make_client(
            on=emulator, use_clock=clock, gate=client.gate, retry=RetryPolicy(max_attempts=1)
        )
        first, second = await submitted(client), await submitted(client)
        emulator.rate_limit(Endpoint.STATUS, retry_after=5)
        with pytest.raises(RateLimitedError):
            await impatient.status(first)
        limited_at = emulator.requests[-1].at
        assert (await client.status(second)).status is RequestStatus.IN_PROGRESS
        other = emulator.requests[-1]
        assert other.request_id == second
        assert other.at >= limited_at + 5.0 - 1e-3


async def test_retry_after_beyond_the_deadline_gives_up_at_once(
    make_client: ClientFactory, emulator: RunComfyEmulator, clock: ManualClock
) -> None:
    client = make_client(retry=RetryPolicy(deadline=60))
    rid = await submitted(client)
    emulator.rate_limit(Endpoint.STATUS, retry_after=300, times=None)
    before = clock.monotonic()
    with pytest.raises(RateLimitedError) as caught:
        await client.status(rid)
    assert caught.value.retry_after == 300
    assert emulator.count(Endpoint.STATUS) == 1
    assert clock.monotonic() == before


@pytest.mark.parametrize(
    ("http_status", "error_code"), [(500, 500001), (502, None), (503, None), (504, None)]
)
async def test_5xx_then_success(
    client: RunComfyClient, emulator: RunComfyEmulator, http_status: int, error_code: int | None
) -> None:
    rid = await submitted(client)
    for endpoint in (Endpoint.STATUS, Endpoint.RESULT, Endpoint.CANCEL):
        emulator.fail(endpoint, http_status, error_code=error_code, times=2)
    assert (await client.status(rid)).status is RequestStatus.IN_PROGRESS
    assert (await client.result(rid)).status is RequestStatus.IN_PROGRESS
    assert (await client.cancel(rid)).outcome is CancelOutcome.NOT_CANCELLABLE
    for endpoint in (Endpoint.STATUS, Endpoint.RESULT, Endpoint.CANCEL):
        assert emulator.count(endpoint) == 3


async def test_5xx_forever_gives_up_after_max_attempts(
    make_client: ClientFactory, emulator: RunComfyEmulator
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=3, deadline=1000))
    rid = await submitted(client)
    emulator.fail(Endpoint.STATUS, 503, times=None)
    with pytest.raises(ServerError):
        await client.status(rid)
    assert emulator.count(Endpoint.STATUS) == 3


async def test_reset_then_success_on_cancel(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    emulator.set_workers(0)
    rid = await submitted(client)
    emulator.reset(Endpoint.CANCEL, times=2)
    assert (await client.cancel(rid)).outcome is CancelOutcome.CANCELLED
    assert emulator.count(Endpoint.CANCEL) == 3


async def test_reset_then_success_on_status(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    rid = await submitted(client)
    # aiohttp itself repeats an idempotent GET once after a reset, so three resets
    # need a retry by the client too.
    emulator.reset(Endpoint.STATUS, times=3)
    assert (await client.status(rid)).status is RequestStatus.IN_PROGRESS
    assert emulator.faults_pending(Endpoint.STATUS) == 0
    assert emulator.count(Endpoint.STATUS) == 4
    status_attempts = client.gate.requests_started - 1
    assert status_attempts >= 2


async def test_read_timeout_then_success(
    make_client: ClientFactory, emulator: RunComfyEmulator
) -> None:
    client = make_client(read_timeout=0.2)
    rid = await submitted(client)
    emulator.slow(Endpoint.RESULT, 1.0)
    assert (await client.result(rid)).status is RequestStatus.IN_PROGRESS
    assert emulator.count(Endpoint.RESULT) == 2


async def test_non_json_gives_transport_error_after_retries(
    make_client: ClientFactory, emulator: RunComfyEmulator
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=4, deadline=1000))
    rid = await submitted(client)
    emulator.non_json(Endpoint.STATUS, times=None)
    with pytest.raises(TransportError) as caught:
        await client.status(rid)
    assert caught.value.request_sent is True
    assert emulator.count(Endpoint.STATUS) == 4


async def test_unreachable_api_gives_transport_error_after_retries(
    make_client: ClientFactory,
) -> None:
    client = make_client(base_url=CLOSED_PORT_URL, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(TransportError) as caught:
        await client.status("abc")
    assert caught.value.request_sent is False
    assert client.gate.requests_started == 3


async def test_error_code_in_a_200(client: RunComfyClient, emulator: RunComfyEmulator) -> None:
    rid = await submitted(client)
    emulator.error_in_200(Endpoint.STATUS, error_code=500001)
    assert (await client.status(rid)).status is RequestStatus.IN_PROGRESS
    assert emulator.count(Endpoint.STATUS) == 2

    emulator.error_in_200(Endpoint.RESULT, error_code=404001, message="expired")
    with pytest.raises(RequestNotFoundError) as caught:
        await client.result(rid)
    assert caught.value.http_status == 200
    assert caught.value.error_code == 404001
    assert emulator.count(Endpoint.RESULT) == 1


async def test_expired_id_is_request_not_found_without_retries(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    rid = await submitted(client)
    emulator.expire(rid)
    for call in (client.status, client.result, client.cancel):
        with pytest.raises(RequestNotFoundError):
            await call(rid)
    assert emulator.count(Endpoint.STATUS) == 1
    assert emulator.count(Endpoint.RESULT) == 1
    assert emulator.count(Endpoint.CANCEL) == 1


async def test_bad_token_is_authentication_error_without_retries(
    make_client: ClientFactory, emulator: RunComfyEmulator
) -> None:
    client = make_client(token=Secret("not-the-token"))
    with pytest.raises(AuthenticationError) as caught:
        await client.submit(REQUEST)
    assert caught.value.error_code == 401001
    with pytest.raises(AuthenticationError):
        await client.status("some-id")
    assert emulator.count(Endpoint.SUBMIT) == 1
    assert emulator.count(Endpoint.STATUS) == 1


async def test_invalid_request_ids_never_reach_the_network(
    client: RunComfyClient, emulator: RunComfyEmulator
) -> None:
    for bad in ("../../v1/models", "a b", "x" * 200, ""):
        for call in (client.status, client.result, client.cancel):
            with pytest.raises(InvalidRequestIdError):
                await call(bad)
    assert emulator.requests == []


async def test_from_settings(session: aiohttp.ClientSession, emulator: RunComfyEmulator) -> None:
    settings = load_settings(
        {
            "RUNCOMFY_API_TOKEN": emulator.token,
            "RUNCOMFY_API_BASE": emulator.base_url,
            "RUNCOMFY_MAX_REQUESTS_PER_SECOND": "4",
            "RUNCOMFY_MAX_CONCURRENT_REQUESTS": "3",
            "RUNCOMFY_READ_TIMEOUT_SECONDS": "7",
        },
        need_discord=False,
    )
    client = settings.runcomfy.client(session, emulator.clock)
    assert (client.gate.rate_per_second, client.gate.max_concurrency) == (4.0, 3)
    assert client.timeout.sock_read == 7.0
    assert client.timeout.sock_connect == 10.0
    assert (await client.status(await submitted(client))).status is RequestStatus.IN_PROGRESS


def test_the_token_must_be_a_secret(session: aiohttp.ClientSession) -> None:
    with pytest.raises(TypeError):
        RunComfyClient(session, base_url="https://x", token="plain", clock=ManualClock())  # type: ignore[arg-type]


# ---------------------------------------------------------------------- token leaks


async def test_the_token_never_leaks(
    caplog: pytest.LogCaptureFixture, session: aiohttp.ClientSession
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("aiohttp", "aiohttp.access", "aiohttp.client", "aiohttp.server", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    clock = ManualClock()
    errors: list[BaseException] = []
    async with RunComfyEmulator(clock=clock, access_log=True) as emulator:
        token = emulator.token

        def client(**overrides: object) -> RunComfyClient:
            options: dict[str, object] = {
                "base_url": emulator.base_url,
                "token": Secret(token),
                "clock": clock,
                "read_timeout": 0.2,
                "retry": RetryPolicy(max_attempts=2),
                "rng": random.Random(5),
            }
            options.update(overrides)
            return RunComfyClient(session, **options)  # type: ignore[arg-type]

        good = client()
        assert token not in repr(good)
        assert token not in str(vars(good))
        rid = await submitted(good)

        async def expect(call: object) -> None:
            with pytest.raises(RunComfyError) as caught:
                await call  # type: ignore[misc]
            errors.append(caught.value)

        emulator.fail(Endpoint.STATUS, 500, message=f"token {token} rejected", times=2)
        await expect(good.status(rid))
        emulator.rate_limit(Endpoint.STATUS, retry_after=1, times=2)
        await expect(good.status(rid))
        emulator.reset(Endpoint.CANCEL, times=2)
        await expect(good.cancel(rid))
        emulator.non_json(Endpoint.RESULT, times=2)
        await expect(good.result(rid))
        emulator.slow(Endpoint.SUBMIT, 1.0)
        await expect(good.submit(REQUEST))
        emulator.reset(Endpoint.SUBMIT)
        await expect(good.submit(REQUEST))
        emulator.fail(Endpoint.SUBMIT, 502, error_code=None)
        await expect(good.submit(REQUEST))
        emulator.error_in_200(Endpoint.SUBMIT, error_code=400004, message=f"bad {token}")
        await expect(good.submit(REQUEST))
        bug = KlingRequest(prompt="x")
        object.__setattr__(bug, "cfg_scale", 7.0)
        await expect(good.submit(bug))
        emulator.expire(rid)
        await expect(good.status(rid))
        await expect(client(token=Secret(token + "x")).submit(REQUEST))
        await expect(client(base_url=CLOSED_PORT_URL).status(rid))
        await expect(client(base_url=CLOSED_PORT_URL).submit(REQUEST))

    kinds = {type(error) for error in errors}
    assert {
        ServerError,
        RateLimitedError,
        TransportError,
        SubmitOutcomeUnknownError,
        AuthenticationError,
        InvalidInputError,
        RequestNotFoundError,
    } <= kinds
    for error in errors:
        assert isinstance(error, RunComfyError)
        for text in (
            str(error),
            repr(error),
            "".join(traceback.format_exception(error)),
        ):
            assert token not in text, type(error)
    assert any("***" in str(error) for error in errors)
    assert any(record.name.startswith("aiohttp") for record in caplog.records)
    assert any(record.name.startswith("bot.runcomfy") for record in caplog.records)
    for record in caplog.records:
        assert token not in record.getMessage(), record.name
        assert token not in str(record.args)
    assert token not in caplog.text


# ---------------------------------------------------------------------- observer


class Exchanges:
    """An `ExchangeObserver` that writes down what it is told."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, ErrorKind | None]] = []

    def exchanged(self, call: str, error: ErrorKind | None, seconds: float) -> None:
        assert seconds >= 0
        self.seen.append((call, error))


async def test_the_observer_hears_every_exchange_retries_and_errors_included(
    make_client: ClientFactory, emulator: RunComfyEmulator
) -> None:
    exchanges = Exchanges()
    client = make_client(observer=exchanges, retry=RetryPolicy(max_attempts=3, deadline=1000))
    rid = await submitted(client)
    emulator.fail(Endpoint.STATUS, 503, times=1)
    await client.status(rid)
    await client.result(rid)
    emulator.fail(Endpoint.CANCEL, 429, times=None)
    with pytest.raises(RateLimitedError):
        await client.cancel(rid)
    emulator.fail(Endpoint.SUBMIT, 502)
    with pytest.raises(SubmitOutcomeUnknownError):
        await client.submit(REQUEST)
    assert exchanges.seen == [
        ("submit", None),
        ("status", ErrorKind.SERVER),
        ("status", None),
        ("result", None),
        *[("cancel", ErrorKind.RATE_LIMITED)] * 3,
        ("submit", ErrorKind.SERVER),
    ]


async def test_the_observer_hears_transport_errors(make_client: ClientFactory) -> None:
    exchanges = Exchanges()
    client = make_client(
        base_url=CLOSED_PORT_URL, observer=exchanges, retry=RetryPolicy(max_attempts=2)
    )
    with pytest.raises(TransportError):
        await client.status("abc")
    assert exchanges.seen == [("status", ErrorKind.TRANSPORT)] * 2


async def test_a_failing_observer_does_not_break_the_client(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def exchanged(self, call: str, error: ErrorKind | None, seconds: float) -> None:
            raise RuntimeError("observer bug")

    client = make_client(observer=Broken())
    assert await submitted(client)
    assert "the RunComfy observer failed" in caplog.text
