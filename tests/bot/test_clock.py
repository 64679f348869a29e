"""The clocks: scaled clocks given one origin read one time; a corrected clock reads what
another clock said, whatever its own host believes."""

from __future__ import annotations

import time

import pytest

from bot.clock import CorrectedClock, ScaledClock


def test_scaled_clocks_with_one_origin_agree_whenever_they_were_made() -> None:
    origin = time.time() - 10.0
    first = ScaledClock(200.0, origin=origin)
    time.sleep(0.05)
    second = ScaledClock(200.0, origin=origin)
    unaligned = ScaledClock(200.0)
    assert second.now() == pytest.approx(first.now(), abs=0.5)
    assert abs(unaligned.now() - first.now()) > 100.0, "each alone starts at its own time"
    assert first.from_real(origin) == pytest.approx(origin)
    assert first.from_real(origin + 1.0) == pytest.approx(origin + 200.0)


def test_a_corrected_clock_reads_what_the_reference_said() -> None:
    base = ScaledClock(1.0)
    clock = CorrectedClock(base)
    assert clock.now() == pytest.approx(base.now(), abs=0.01)
    before = base.now()
    reference = time.time() + 3600.0
    clock.agree(reference, before=before, after=base.now())
    assert clock.now() == pytest.approx(reference, abs=0.05)
    assert clock.offset == pytest.approx(3600.0, abs=0.05)
    assert clock.monotonic() == pytest.approx(base.monotonic(), abs=0.01), "durations are its own"


def test_a_scaled_corrected_clock_follows_the_reference_in_scaled_seconds() -> None:
    origin = time.time()
    base = ScaledClock(100.0, origin=origin)
    clock = CorrectedClock(base)
    ahead = 2.0
    before = base.now()
    clock.agree(time.time() + ahead, before=before, after=base.now())
    assert clock.offset == pytest.approx(ahead * 100.0, abs=1.0)
    assert clock.now() == pytest.approx(base.from_real(time.time() + ahead), abs=1.0)
