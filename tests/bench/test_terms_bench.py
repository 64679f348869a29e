"""`python -m bench.terms` at smoke size, so the benchmark cannot rot."""

from __future__ import annotations

from bench.terms import SMOKE, render, run_terms


def test_the_terms_benchmark_runs_at_smoke_size() -> None:
    result = run_terms(SMOKE)
    assert set(result.per_prompt_ms) == {"english", "german", "numbers", "adversarial"}
    assert all(summary.count == SMOKE.repeat for summary in result.per_prompt_ms.values())
    assert 0 < result.worst_p50_ms < 100
    assert "| english |" in render(result)
