"""Each benchmark at smoke size, through the same code as `python -m bench.run`, so the
benchmarks cannot rot. The checks are for sane numbers, not speed: machines are noisy."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.ack import run_ack
from bench.bigfile import run_bigfile
from bench.fit import run_fit_ack
from bench.run import Plan, smoke_plan
from bench.startup import run_startup
from bench.throughput import SETTINGS, PollSetting, run_load
from bench.world import MIB
from testkit.load import DEFAULT_SEED


@pytest.fixture(scope="module")
def plan() -> Plan:
    return smoke_plan(DEFAULT_SEED)


async def test_acknowledgement(plan: Plan, tmp_path: Path) -> None:
    result = await run_ack(plan.ack, tmp_path)
    assert result.acknowledged == result.deferred == result.commands == plan.ack.commands
    assert 0 < result.seconds.p50 <= result.seconds.p99 <= result.seconds.max < 3.0
    assert result.errors_logged == 0


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.label)
async def test_throughput(plan: Plan, setting: PollSetting, tmp_path: Path) -> None:
    result = await run_load(setting, plan.load, tmp_path)
    assert result.delivered == result.jobs == plan.load.jobs
    assert result.polls_per_job >= 2
    assert 0 <= result.detection.p50 <= result.lag.p50 <= result.lag.max < 120
    assert result.lag.count == result.detection.count == result.jobs
    assert result.command_to_video.p50 > result.lag.p50
    assert result.edits_per_job >= 1
    assert result.discord_429s >= 0
    assert 10 * MIB < result.peak_rss_bytes < 1024 * MIB
    assert 0 < result.cpu_per_job < 10
    assert 1 <= result.peak_jobs_at_runcomfy <= result.jobs
    assert result.errors_logged == 0


async def test_busy_channels(plan: Plan, tmp_path: Path) -> None:
    adaptive = next(setting for setting in SETTINGS if setting.key == "adaptive")
    result = await run_load(adaptive, plan.busy, tmp_path)
    assert result.channels == plan.busy.channels
    assert result.delivered == result.jobs == plan.busy.jobs
    assert result.channel_floor.count == result.jobs
    assert 0 <= result.channel_floor.p50 <= result.channel_floor.max
    assert result.errors_logged == 0


async def test_big_file(plan: Plan, tmp_path: Path) -> None:
    result = await run_bigfile(plan.bigfile, tmp_path)
    assert result.attached_size == result.size == plan.bigfile.size
    assert 10 * MIB < result.baseline_rss_bytes <= result.peak_rss_bytes
    assert result.real_seconds > 0
    assert result.errors_logged == 0


async def test_startup(plan: Plan, tmp_path: Path) -> None:
    result = await run_startup(plan.startup, tmp_path)
    assert result.stored_jobs == plan.startup.stored_jobs
    assert 0 < result.ready.p50 <= result.on_ready.p50 < 60
    assert result.reloaded_open_jobs == 0
    assert result.errors_logged == 0


async def test_crowded_channel(tmp_path) -> None:
    """Members in one channel whose videos finish together: each job costs the channel one
    message, nothing is lost and nothing is rate-limited."""
    plan = smoke_plan(DEFAULT_SEED)
    adaptive = next(setting for setting in SETTINGS if setting.key == "adaptive")
    [config] = plan.crowded
    result = await run_load(adaptive, config, tmp_path)
    assert result.delivered == result.jobs == config.jobs
    assert result.discord_429s == result.bucket_emptied == 0
    assert result.channel_writes_per_job <= 1.0
    floors = (result.channel_floor, result.pace_floor, result.seen_floor)
    assert all(floor.count == result.jobs for floor in floors)


async def test_acknowledgement_during_re_encodes(plan: Plan, tmp_path: Path) -> None:
    result = await run_fit_ack(plan.fit_ack, tmp_path)
    assert result.acknowledged == 2 * result.commands == 2 * plan.fit_ack.commands
    assert 0 < result.quiet.p50 <= result.quiet.max < 3.0
    assert 0 < result.during.p50 <= result.during.max < 3.0
    assert result.fitted_posted == result.fits == plan.fit_ack.fits
    assert all(size <= result.limit_bytes for size in result.fitted_sizes)
    assert result.errors_logged == 0
