"""RequestGate: a shared rate, a concurrency cap, and a pause that holds back everyone."""

from __future__ import annotations

import asyncio
import math

import pytest

from bot.clock import ScaledClock
from bot.runcomfy.gate import RequestGate
from testkit.runcomfy import ManualClock


async def test_burst_passes_then_the_rate_applies() -> None:
    clock = ManualClock()
    gate = RequestGate(clock, rate_per_second=2.0, burst=2, max_concurrency=5)
    entered = []
    for _ in range(4):
        async with gate.slot():
            entered.append(clock.monotonic())
    assert entered == pytest.approx([0.0, 0.0, 0.5, 1.0])
    assert gate.requests_started == 4


async def test_tokens_refill_while_idle_but_not_beyond_the_burst() -> None:
    clock = ManualClock()
    gate = RequestGate(clock, rate_per_second=1.0, burst=2)
    for _ in range(2):
        async with gate.slot():
            pass
    clock.advance(100)
    entered = []
    for _ in range(3):
        async with gate.slot():
            entered.append(clock.monotonic())
    assert entered == pytest.approx([100.0, 100.0, 101.0])


async def test_rate_holds_across_concurrent_callers() -> None:
    clock = ScaledClock(1000)
    gate = RequestGate(clock, rate_per_second=50.0, burst=1, max_concurrency=20)
    entered: list[float] = []

    async def call() -> None:
        async with gate.slot():
            entered.append(clock.monotonic())

    await asyncio.gather(*(call() for _ in range(20)))
    entered.sort()
    assert len(entered) == 20
    # 19 waits of at least 1/50 s each after the first token.
    assert entered[-1] - entered[0] >= 19 / 50 - 1e-6


async def test_concurrency_is_capped() -> None:
    gate = RequestGate(ScaledClock(1000), rate_per_second=1000.0, burst=100, max_concurrency=3)
    release = asyncio.Event()
    inside = 0

    async def call() -> None:
        nonlocal inside
        async with gate.slot():
            inside += 1
            await release.wait()

    tasks = [asyncio.create_task(call()) for _ in range(10)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert inside == 3
    assert gate.in_flight == 3
    release.set()
    await asyncio.gather(*tasks)
    assert inside == 10
    assert gate.peak_in_flight == 3
    assert gate.in_flight == 0


async def test_pause_holds_back_every_caller() -> None:
    clock = ScaledClock(1000)
    gate = RequestGate(clock, rate_per_second=1000.0, burst=10, max_concurrency=10)
    paused_at = clock.monotonic()
    gate.pause(5.0)
    entered: list[float] = []

    async def call() -> None:
        async with gate.slot():
            entered.append(clock.monotonic())

    await asyncio.gather(*(call() for _ in range(4)))
    assert len(entered) == 4
    assert min(entered) >= paused_at + 5.0 - 1e-6
    assert gate.pauses == 1


async def test_a_longer_pause_during_a_wait_extends_it() -> None:
    clock = ManualClock()
    gate = RequestGate(clock)
    gate.pause(2.0)
    entered: list[float] = []

    async def call() -> None:
        async with gate.slot():
            entered.append(clock.monotonic())

    task = asyncio.create_task(call())
    await asyncio.sleep(0)
    assert clock.monotonic() == 2.0
    assert entered == []
    gate.pause(5.0)
    await task
    assert entered == [7.0]


def test_a_shorter_pause_does_not_shorten_a_longer_one() -> None:
    clock = ManualClock()
    gate = RequestGate(clock)
    gate.pause(10.0)
    gate.pause(2.0)
    assert gate.paused_for == 10.0
    assert gate.pauses == 1
    gate.pause(0)
    gate.pause(float("nan"))
    assert gate.paused_for == 10.0
    clock.advance(11)
    assert gate.paused_for == 0.0


async def test_slot_is_released_when_the_call_fails() -> None:
    gate = RequestGate(ManualClock(), max_concurrency=1)
    with pytest.raises(RuntimeError):
        async with gate.slot():
            raise RuntimeError("boom")
    assert gate.in_flight == 0
    async with asyncio.timeout(1):
        async with gate.slot():
            assert gate.in_flight == 1


async def test_a_cancelled_waiter_frees_its_place() -> None:
    clock = ScaledClock(1000)
    gate = RequestGate(clock, rate_per_second=1.0, burst=1, max_concurrency=1)
    async with gate.slot():
        pass
    waiter = asyncio.create_task(gate.slot().__aenter__())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert gate.in_flight == 0
    async with asyncio.timeout(1), gate.slot():
        assert gate.in_flight == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate_per_second": 0},
        {"rate_per_second": -1},
        {"rate_per_second": float("inf")},
        {"max_concurrency": 0},
        {"burst": 0},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RequestGate(ManualClock(), **kwargs)  # type: ignore[arg-type]


def test_default_burst_is_one_second_of_rate() -> None:
    assert RequestGate(ManualClock(), rate_per_second=10.0).burst == 10
    assert RequestGate(ManualClock(), rate_per_second=0.2).burst == 1
    assert "in_flight=0" in repr(RequestGate(ManualClock()))


class CoarseClock(ManualClock):
    """Reads time in 10 ms steps, like a low-resolution timer."""

    def monotonic(self) -> float:
        return math.floor(super().monotonic() * 100) / 100


async def test_a_coarse_clock_cannot_make_the_gate_spin() -> None:
    clock = CoarseClock()
    gate = RequestGate(clock, rate_per_second=3.0, burst=1)
    async with asyncio.timeout(2):
        for _ in range(10):
            async with gate.slot():
                pass
    assert gate.requests_started == 10
    assert clock.monotonic() >= 9 / 3 - 0.1
