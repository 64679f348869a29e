"""The take-over summary over repeated kills: p50 and max of kill → first and every job."""

from __future__ import annotations

from bench.takeover import takeover_summary
from testkit.stats import Summary
from testkit.takeover import TakeoverConfig, TakeoverResult


def result(first: float, every: float, *, twice: bool = False) -> TakeoverResult:
    return TakeoverResult(
        jobs=10,
        answered=10,
        delivered_once=10,
        duplicates={},
        unsettled={},
        submitted_twice={"a prompt": 2} if twice else {},
        states={"delivered": 10},
        lag=Summary.of([1.0]),
        requests_per_job=10.0,
        cpu_ms_per_job=30.0,
        real_seconds=5.0,
        killed_holding=4,
        takeover_seconds=every,
        first_takeover_seconds=first,
    )


def test_the_summary_gives_p50_and_max_and_counts_the_clean_runs() -> None:
    runs = [result(0.2, 0.5), result(0.4, 0.9), result(1.0, 1.2, twice=True)]
    line = takeover_summary(runs, TakeoverConfig(lease_seconds=15.0))
    assert line == (
        "take-over over 3 kills (lease 15 s): first job p50 0.40 s, max 1.00 s; every job "
        "p50 0.90 s, max 1.20 s; 2 of 3 runs delivered every job exactly once"
    )
