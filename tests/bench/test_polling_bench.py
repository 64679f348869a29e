"""The polling benchmark at smoke size, through the same code as `python -m bench.run
--only polling`, and its verdicts. Sane numbers only: the machine is noisy."""

from __future__ import annotations

import math
from pathlib import Path

from bench.eta import NO_ESTIMATES, EtaAccuracy
from bench.poll_process import ProcessResult, run_process_regime
from bench.polling import (
    FAILURE_MODELS,
    RegimeResult,
    SettingResult,
    plan_jobs,
    regimes,
    run_polling,
    warm_history,
)
from bench.report import Row, polling_rows, process_rows, render
from bench.run import smoke_plan
from testkit.load import DEFAULT_SEED
from testkit.stats import Summary


async def test_every_regime_cold_and_warm_with_every_setting(tmp_path: Path) -> None:
    config = smoke_plan(DEFAULT_SEED).polling
    results = await run_polling(config, tmp_path)
    assert [(r.failures, r.regime, r.warm) for r in results] == [
        (failures.label, regime.key, warm)
        for failures in config.failures
        for regime in config.regimes
        for warm in (False, True)
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
        for setting in (result.of("adaptive"), slow):
            error = setting.eta_error
            assert error.count >= setting.lag.count, "an estimate at every change, every job"
            assert 0 <= error.p50 <= error.p90 < math.inf
    # How far off an estimate is depends on the machine at 200× (a 50 ms stall is 10
    # emulated seconds) and on a dozen jobs per regime, but what it learned must show:
    # over every regime, the estimates made after learning from history are at least
    # twice as close as those made cold (about seven times, on a quiet machine).
    for name in ("adaptive", "fixed 5 s"):
        cold, warm = (
            sum(result.of(name).eta_error.p50 for result in results if result.warm is warmth)
            for warmth in (False, True)
        )
        assert 0 < warm < cold / 2, name
    table = render(polling_rows(results))
    assert "Polling: runs of 10–30 s, failures early, cold" in table
    assert "adaptive: failure lag p99" in table
    assert "estimate error ÷ time left" in table


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


def test_each_failure_model_fails_jobs_where_it_says_and_history_has_failures_too() -> None:
    regime = regimes()[1]
    early, late, uniform = FAILURE_MODELS
    for model, low, high in ((early, 0.0, 0.2), (late, 0.8, 1.0)):
        jobs = plan_jobs(regime, 7, 0.15, model)
        comparable = plan_jobs(regime, 7, 0.15, uniform)
        assert [job.fails for job in jobs] == [job.fails for job in comparable]
        for job, same in zip(jobs, comparable, strict=True):
            if not job.fails:
                assert job.run_seconds == same.run_seconds
        full = regime.phases[0].run_seconds
        failing = [job for job in jobs if job.fails]
        assert failing
        for job in failing:
            run = full(job.duration) * 1.4
            assert low * full(job.duration) * 0.6 <= job.run_seconds <= high * run
        history = warm_history(regime, 7, 30, model, 0.15)
        assert [job.run_seconds for job in history] == [
            job.run_seconds for job in warm_history(regime, 7, 30)
        ], "the same runs with or without failures"
        assert any(job.failed_at is not None for job in history)


def _setting(
    name: str, requests: float, lag: float, eta: EtaAccuracy = NO_ESTIMATES
) -> SettingResult:
    summary = Summary(10, lag, lag * 2, lag * 3)
    nothing = Summary(0, math.nan, math.nan, math.nan)
    return SettingResult(name, 10, requests, summary, nothing, 0, eta)


def _row(rows: list[Row], metric: str) -> Row:
    return next(row for row in rows if row.metric.startswith(metric))


def test_the_verdict_is_no_worse_than_fixed_5s_and_much_better_where_runs_are_known() -> None:
    def verdict(regime: str, warm: bool, requests: float, lag: float) -> bool | None:
        settings = (_setting("adaptive", requests, lag), _setting("fixed 5 s", 20.0, 2.5))
        result = RegimeResult(regime, regime, warm, settings)
        return _row(polling_rows([result]), "adaptive ÷ fixed 5 s").met

    assert verdict("short", False, 20.0, 2.5) is True
    assert verdict("short", False, 21.0, 2.0) is False
    assert verdict("medium", False, 15.0, 2.0) is True
    assert verdict("medium", True, 15.0, 0.8) is False
    assert verdict("medium", True, 10.0, 1.25) is False, "half the lag is not a third"
    assert verdict("medium", True, 10.0, 0.8) is True


def test_the_estimates_must_be_within_the_goal_when_warm_whatever_the_schedule() -> None:
    def verdict(warm: bool, adaptive: EtaAccuracy, fixed: EtaAccuracy) -> bool | None:
        settings = (
            _setting("adaptive", 10.0, 1.0, adaptive),
            _setting("fixed 5 s", 20.0, 2.5, fixed),
        )
        result = RegimeResult("medium", "medium", warm, settings)
        return _row(polling_rows([result]), "estimate error").met

    good, wide = EtaAccuracy(40, 0.10, 0.30), EtaAccuracy(40, 0.10, 0.40)
    assert verdict(True, good, good) is True
    assert verdict(True, good, wide) is False, "fixed polling gets estimates as good"
    assert verdict(True, EtaAccuracy(40, 0.16, 0.30), good) is False
    assert verdict(True, NO_ESTIMATES, good) is False, "no estimate is no pass"
    assert verdict(False, wide, wide) is None, "no goal from a cold start"


def _process(name: str, requests: float, lag: float, failure: float) -> ProcessResult:
    return ProcessResult(
        name, 20, requests, Summary(18, lag, lag * 2, lag * 2), Summary(2, 1, failure, failure), 0
    )


def test_the_real_clock_regime_must_beat_fixed_5s_on_both_and_tell_failures_fast() -> None:
    def verdicts(requests: float, lag: float, failure: float) -> tuple[bool | None, ...]:
        rows = process_rows(
            [_process("adaptive", requests, lag, failure), _process("fixed 5 s", 5.5, 2.2, 4.0)]
        )
        return (
            _row(rows, "adaptive ÷ fixed 5 s").met,
            _row(rows, "adaptive: failure lag p99").met,
        )

    assert verdicts(5.0, 1.0, 4.5) == (True, True)
    assert verdicts(7.1, 0.7, 4.5) == (False, True), "quick but dearer is no pass"
    assert verdicts(5.0, 1.0, 5.5) == (True, False)


async def test_the_bot_as_its_own_process_on_the_real_clock(tmp_path: Path) -> None:
    config = smoke_plan(DEFAULT_SEED).polling_process
    results = await run_process_regime(config, tmp_path)
    assert [result.setting for result in results] == ["adaptive", "fixed 5 s"]
    for result in results:
        assert result.unseen == 0
        assert result.lag.count + result.failure_lag.count == config.jobs
        assert result.requests_per_job >= 1
        assert 0 <= result.lag.p50 <= result.lag.max < 10
