"""The soak at smoke size (40 jobs), through the same code as `python -m bench.soak`:
RunComfy faults, a SQLite write outage and a Discord outage of over 15 emulated minutes,
then every job accounted for. The harness is checked as much as the bot: the outages and
faults really happened, and the accounting adds up."""

from __future__ import annotations

from pathlib import Path

from bench.load import DEFAULT_SEED
from bench.soak import report, run_soak, smoke_config


async def test_soak_smoke(tmp_path: Path) -> None:
    config = smoke_config(DEFAULT_SEED)
    result = await run_soak(config, tmp_path)
    print(report(result, config))

    assert result.jobs == config.jobs
    assert result.accepted + result.refused == result.jobs
    assert result.accepted > 0
    assert result.faulted > 0, "RunComfy faults were injected"
    assert result.store_outage >= config.store_outage_seconds
    assert result.discord_outage > 15 * 60
    assert result.middle.tasks > 0, "the bot reported its tasks"
    assert result.end.tasks > 0

    assert result.unanswered == [], "every command got an answer"
    assert result.unaccounted == {}
    assert result.every_job_accounted
    assert result.duplicates == {}, "no video posted twice"
    assert result.submitted_twice == {}, "no prompt paid for twice"
    assert result.end.temp_files == 0
    assert result.end.tasks <= result.middle.tasks
