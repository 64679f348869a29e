"""The soak at smoke size (40 + 40 jobs), through the same code as `python -m bench.soak`:
RunComfy faults, a SQLite write outage and a Discord outage of over 15 emulated minutes,
every job accounted for; a write refused while the bot is idle, after which the next
command is taken; then the same work again without outages, which must leave the bot
where the first batch left it; and a PostgreSQL episode whose server restarts midway.
The harness is checked as much as the bot: the outages and faults really happened, the
accounting adds up, and the probes saw the bot's own parts."""

from __future__ import annotations

from pathlib import Path

from bench.soak import IDLE_COMMANDS, PER_JOB_RECORDS, report, run_soak, smoke_config
from testkit.load import DEFAULT_SEED
from testkit.postgres import find_bin_dir


async def test_soak_smoke(tmp_path: Path) -> None:
    config = smoke_config(DEFAULT_SEED)
    result = await run_soak(config, tmp_path)
    print(report(result, config))

    assert result.jobs == config.jobs + IDLE_COMMANDS + config.second
    assert result.accepted + result.refused == result.jobs
    assert result.accepted > 0
    assert result.faulted > 0, "RunComfy faults were injected"
    assert result.store_outage >= config.store_outage_seconds
    assert result.discord_outage > 15 * 60
    assert result.idle_refusal is not None, "the command sent while writes were refused"
    assert "database refuses writes" in result.idle_refusal, result.idle_refusal
    assert result.taken_after_idle_refusal, "the next command, once writes worked, was taken"

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

    restart = result.restart
    if find_bin_dir() is None:
        assert restart is None
        return
    assert restart is not None, "the PostgreSQL episode ran"
    assert restart.down_seconds > 0, "its server was restarted"
    assert restart.accepted > 0
    assert restart.sent_after > 0
    assert restart.taken_after == restart.sent_after, "commands after the restart were taken"
    assert restart.unaccounted == {}
    assert restart.unanswered == 0
    assert restart.duplicates == {}
    assert restart.submitted_twice == {}
    assert restart.held
    assert restart.errors == [], "no ERROR but the database's own refusals"
