"""The soak at smoke size (40 + 40 jobs), through the same code as `python -m bench.soak`:
RunComfy faults, a SQLite write outage and a Discord outage of over 15 emulated minutes,
every job accounted for; then the same work again without outages, which must leave the
bot where the first batch left it. The harness is checked as much as the bot: the
outages and faults really happened, the accounting adds up, and the probes saw the
bot's own parts."""

from __future__ import annotations

from pathlib import Path

from bench.soak import PER_JOB_RECORDS, report, run_soak, smoke_config
from testkit.load import DEFAULT_SEED


async def test_soak_smoke(tmp_path: Path) -> None:
    config = smoke_config(DEFAULT_SEED)
    result = await run_soak(config, tmp_path)
    print(report(result, config))

    assert result.jobs == config.jobs + config.second
    assert result.accepted + result.refused == result.jobs
    assert result.accepted > 0
    assert result.faulted > 0, "RunComfy faults were injected"
    assert result.store_outage >= config.store_outage_seconds
    assert result.discord_outage > 15 * 60

    assert result.unanswered == [], "every command got an answer"
    assert result.unaccounted == {}
    assert result.every_job_accounted
    assert result.duplicates == {}, "no video posted twice"
    assert result.submitted_twice == {}, "no prompt paid for twice"

    baseline, middle, settled, end = result.baseline, result.middle, result.settled, result.end
    assert baseline.tasks > 0, "the bot reported its tasks"
    assert baseline.objects > 0, "the bot reported its objects"
    assert set(PER_JOB_RECORDS) <= set(end.structures), "the probe sees the bot's parts"
    assert middle.structures["tracker._context.book._jobs"] > 0, "jobs were under way mid-run"
    assert result.kept_per_job == {}, "nothing kept per job after each batch and its idle"
    assert settled.tasks <= baseline.tasks
    assert end.tasks <= baseline.tasks
    assert end.temp_files == 0
    assert result.containers_grown == {}, "the same work again grew no container"
    objects, blocks = result.steady_allowance
    growth = result.later_growth
    assert growth.objects <= objects, f"{growth.objects:+,} objects over the second batch"
    assert growth.blocks <= blocks, f"{growth.blocks:+,} blocks over the second batch"
    assert end.blocks <= max(middle.blocks, settled.blocks) + blocks, (
        "Python's allocations back near the middle's once the backlog is gone"
    )
