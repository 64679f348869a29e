"""RetryPolicy: what is retried, how long it waits, and that it always stops."""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable

import pytest

from bot.runcomfy.errors import (
    AuthenticationError,
    InsufficientBalanceError,
    InvalidInputError,
    RateLimitedError,
    RequestNotFoundError,
    RunComfyError,
    ServerError,
    SubmitOutcomeUnknownError,
    TransportError,
)
from bot.runcomfy.retry import RetryPolicy
from testkit.runcomfy import ManualClock


class Script:
    """An operation that raises the given errors in turn, then returns "ok"."""

    def __init__(self, clock: ManualClock, *errors: BaseException) -> None:
        self._clock = clock
        self._errors = list(errors)
        self.calls: list[float] = []

    async def __call__(self) -> str:
        self.calls.append(self._clock.monotonic())
        if self._errors:
            raise self._errors.pop(0)
        return "ok"


def run(
    policy: RetryPolicy, operation: Callable[[], Awaitable[str]], clock: ManualClock, seed: int = 1
) -> Awaitable[str]:
    return policy.run(operation, clock=clock, rng=random.Random(seed))


async def test_success_first_time_does_not_wait() -> None:
    clock = ManualClock()
    script = Script(clock)
    assert await run(RetryPolicy(), script, clock) == "ok"
    assert script.calls == [0.0]


@pytest.mark.parametrize(
    "error",
    [ServerError("5xx"), TransportError("reset"), RateLimitedError("429")],
)
async def test_retryable_errors_are_retried(error: RunComfyError) -> None:
    clock = ManualClock()
    script = Script(clock, error, error)
    assert await run(RetryPolicy(), script, clock) == "ok"
    assert len(script.calls) == 3


@pytest.mark.parametrize(
    "error",
    [
        InvalidInputError("422"),
        AuthenticationError("401"),
        InsufficientBalanceError("402"),
        RequestNotFoundError("404"),
        SubmitOutcomeUnknownError("?"),
        RunComfyError("418"),
    ],
)
async def test_non_retryable_errors_are_raised_at_once(error: RunComfyError) -> None:
    clock = ManualClock()
    script = Script(clock, error)
    with pytest.raises(type(error)) as caught:
        await run(RetryPolicy(), script, clock)
    assert caught.value is error
    assert len(script.calls) == 1


async def test_other_exceptions_are_not_retried() -> None:
    clock = ManualClock()
    script = Script(clock, KeyError("bug"))
    with pytest.raises(KeyError):
        await run(RetryPolicy(), script, clock)
    assert len(script.calls) == 1


async def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    clock = ManualClock()
    errors = [ServerError(f"attempt {n}") for n in range(1, 10)]
    script = Script(clock, *errors)
    with pytest.raises(ServerError) as caught:
        await run(RetryPolicy(max_attempts=4), script, clock)
    assert len(script.calls) == 4
    assert caught.value is errors[3]


async def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    clock = ManualClock()
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=5.0, deadline=1000)
    script = Script(clock, *[ServerError("x")] * 5)
    await run(policy, script, clock, seed=7)
    waits = [later - earlier for earlier, later in itertools.pairwise(script.calls)]
    expected_rng = random.Random(7)
    caps = [1.0, 2.0, 4.0, 5.0, 5.0]
    assert waits == pytest.approx([expected_rng.uniform(0, cap) for cap in caps])
    assert all(0 <= wait <= cap for wait, cap in zip(waits, caps, strict=True))


def test_backoff_caps() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)

    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    assert [policy.backoff(n, Top()) for n in (1, 2, 3, 7, 20)] == [0.5, 1.0, 2.0, 30.0, 30.0]


def test_jitter_spreads_retries() -> None:
    policy = RetryPolicy()
    rng = random.Random(3)
    delays = {round(policy.backoff(3, rng), 6) for _ in range(50)}
    assert len(delays) > 40
    assert all(0 <= delay <= 2.0 for delay in delays)


async def test_retry_after_is_honoured_even_above_max_delay() -> None:
    clock = ManualClock()
    policy = RetryPolicy(max_delay=1.0, deadline=100)
    script = Script(clock, RateLimitedError("429", retry_after=12.0))
    assert await run(policy, script, clock) == "ok"
    assert script.calls == [0.0, 12.0]


async def test_retry_after_past_the_deadline_gives_up_without_sleeping() -> None:
    clock = ManualClock()
    error = RateLimitedError("429", retry_after=200.0)
    script = Script(clock, error)
    with pytest.raises(RateLimitedError) as caught:
        await run(RetryPolicy(deadline=120), script, clock)
    assert caught.value is error
    assert clock.monotonic() == 0.0


async def test_deadline_counts_time_spent_in_attempts() -> None:
    clock = ManualClock()

    async def slow_failure() -> str:
        clock.advance(50)
        raise RateLimitedError("429", retry_after=15.0)

    with pytest.raises(RateLimitedError):
        await run(RetryPolicy(deadline=120, max_attempts=10), slow_failure, clock)
    # 50 (attempt) + 15 + 50 (attempt) = 115; another 15 s would end past 120.
    assert clock.monotonic() == pytest.approx(115.0)


async def test_backoff_never_sleeps_past_the_deadline() -> None:
    clock = ManualClock()
    policy = RetryPolicy(max_attempts=100, base_delay=1.0, max_delay=8.0, deadline=30.0)
    script = Script(clock, *[TransportError("x")] * 100)
    with pytest.raises(TransportError):
        await run(policy, script, clock)
    assert clock.monotonic() < 30.0
    assert 2 < len(script.calls) < 100


async def test_zero_retry_after_retries_immediately() -> None:
    clock = ManualClock()
    script = Script(clock, RateLimitedError("429", retry_after=0.0))
    assert await run(RetryPolicy(), script, clock) == "ok"
    assert script.calls == [0.0, 0.0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"base_delay": -1},
        {"max_delay": float("nan")},
        {"deadline": -5},
        {"base_delay": 10, "max_delay": 1},
    ],
)
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_is_frozen_with_documented_defaults() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay, policy.deadline) == (
        5,
        0.5,
        30.0,
        120.0,
    )
    with pytest.raises(AttributeError):
        policy.max_attempts = 3  # type: ignore[misc]
