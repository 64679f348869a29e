"""`python -m bench.fit` at smoke size, so the benchmark cannot rot."""

from __future__ import annotations

from pathlib import Path

from bench.fit import SMOKE, render, run_fit_bench


async def test_the_fit_benchmark_runs_at_smoke_size(tmp_path: Path) -> None:
    results = await run_fit_bench(SMOKE, tmp_path)

    assert len(results) == 1
    assert results[0].result.size_bytes <= SMOKE.limit_bytes
    assert results[0].worker_peak_rss_bytes is not None
    assert results[0].worker_cpu_seconds > 0
    assert "120p" in render(results, SMOKE, load=0.0)
