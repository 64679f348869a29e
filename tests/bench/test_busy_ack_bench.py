"""The acknowledgement-while-busy benchmark at smoke size, through the same code as
`python -m bench.run --only busyack`. Sane numbers, not speed: machines are noisy."""

from __future__ import annotations

from pathlib import Path

from bench.busy_ack import run_busy_ack
from bench.report import busy_ack_rows
from bench.run import smoke_plan
from testkit.load import DEFAULT_SEED


async def test_both_bursts_are_answered_and_the_busy_one_meets_a_bot_holding_jobs(
    tmp_path: Path,
) -> None:
    config = smoke_plan(DEFAULT_SEED).busy_ack
    result = await run_busy_ack(config, tmp_path)
    assert result.acknowledged == 2 * config.commands
    assert result.idle.count == result.busy.count == config.commands
    for summary in (result.idle, result.busy):
        assert 0 < summary.p50 <= summary.p99 <= summary.max < 3.0
    assert config.active_limit < result.tracked <= 1 + config.commands + config.tracked
    assert result.tracked / 2 < result.waiting <= result.tracked, "most of them wait in line"
    assert result.errors_logged == 0
    rows = busy_ack_rows(result)
    assert [row.met for row in rows if row.target == "p99 ≤ 10 ms"] == [result.busy.p99 <= 0.010]
