"""The polling benchmark at smoke size, through the same code as `python -m bench.run
--only polling`, and its verdicts. Sane numbers only: the machine is noisy."""

from __future__ import annotations

import math
from pathlib import Path

from bench.polling import RegimeResult, SettingResult, plan_jobs, regimes, run_polling
from bench.report import polling_rows, render
from bench.run import smoke_plan
from testkit.load import DEFAULT_SEED
from testkit.stats import Summary


async def test_every_regime_cold_and_warm_with_every_setting(tmp_path: Path) -> None:
    config = smoke_plan(DEFAULT_SEED).polling
    results = await run_polling(config, tmp_path)
    assert [(r.regime, r.warm) for r in results] == [
        (regime.key, warm) for regime in config.regimes for warm in (False, True)
    ]
    for result in results:
        assert [s.setting for s in result.settings] == ["adaptive", "fixed 2 s", "fixed 5 s"]
        for setting in result.settings:
            assert setting.unfinished == 0
            assert setting.requests_per_job >= 1
            assert setting.lag.count + setting.failure_lag.count == setting.jobs
            assert 0 <= setting.lag.p50 <= setting.lag.max < 60
        fast, slow = result.of("fixed 2 s"), result.of("fixed 5 s")
        assert fast.requests_per_job > slow.requests_per_job
    assert "Polling: runs of 10–30 s, cold" in render(polling_rows(results))


def test_the_jobs_are_the_same_every_time_and_some_fail() -> None:
    regime = regimes()[3]
    jobs = plan_jobs(regime, 7, 0.15)
    assert jobs == plan_jobs(regime, 7, 0.15)
    assert len(jobs) == sum(phase.jobs for phase in regime.phases)
    assert any(job.fails for job in jobs)
    assert all(job.run_seconds >= 3.0 for job in jobs)
    fast = [job.run_seconds for job in jobs[20:40] if not job.fails]
    slow = [job.run_seconds for job in jobs[40:] if not job.fails]
    assert max(fast) < min(slow), "the last phase runs 3× slower than the one before"


def _setting(name: str, requests: float, lag: float) -> SettingResult:
    summary = Summary(10, lag, lag * 2, lag * 3)
    return SettingResult(name, 10, requests, summary, Summary(0, math.nan, math.nan, math.nan), 0)


def test_the_verdict_is_no_worse_than_fixed_5s_and_halves_it_where_runs_are_known() -> None:
    def verdict(regime: str, warm: bool, requests: float, lag: float) -> bool | None:
        settings = (_setting("adaptive", requests, lag), _setting("fixed 5 s", 20.0, 2.5))
        result = RegimeResult(regime, regime, warm, settings)
        return polling_rows([result])[-1].met

    assert verdict("short", False, 20.0, 2.5) is True
    assert verdict("short", False, 21.0, 2.0) is False
    assert verdict("medium", False, 15.0, 2.0) is True
    assert verdict("medium", True, 15.0, 1.0) is False
    assert verdict("medium", True, 10.0, 1.25) is True
