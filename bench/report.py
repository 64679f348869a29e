"""The one table: every metric with its target and whether it was met, as Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.ack import AckResult
from bench.bigfile import BigFileResult
from bench.busy_ack import BusyAckResult
from bench.fit import FitAckResult, FitBenchConfig, FitBenchResult
from bench.poll_process import ProcessResult
from bench.polling import RegimeResult
from bench.startup import StartupResult
from bench.throughput import LoadResult
from bench.world import MIB
from bot.formatting import megabytes
from testkit.stats import Summary

ACK_P99_TARGET = 0.100
BUSY_ACK_P99_TARGET = 0.010
"""Dispatch → callback while the bot tracks a thousand jobs: nothing it does per job may
stand between a command and its answer."""
POLL_RATIO_TARGET = 0.5
"""Requests, adaptive ÷ fixed 5 s, in the showcase regime."""
POLL_LAG_RATIO_TARGET = 1 / 3
"""p50 lag, adaptive ÷ fixed 5 s, in the showcase regime."""
FAILURE_LAG_P99_TARGET = 5.0
"""Seconds from RunComfy failing a job to the tracker seeing it, p99."""
LAG_P50_TARGET = 2.0
RSS_TARGET = 150 * MIB
BIG_FILE_GROWTH_TARGET = 30 * MIB
STARTUP_TARGET = 3.0
POLLING_SHOWCASE = ("medium", True)
"""The regime (and warmth) where adaptive must poll half as often as fixed 5 s for a third
of its lag."""
ETA_P50_TARGET = 0.15
ETA_P90_TARGET = 0.35
"""How far a warm estimate may be from the delivery, as a share of the time left."""
EDITS_PER_JOB_TARGET = 5.0


@dataclass(frozen=True, slots=True)
class Row:
    benchmark: str
    metric: str
    result: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("pass" if self.met else "**MISS**")


def seconds(summary: Summary, unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
    values = (summary.p50 * scale, summary.p99 * scale, summary.max * scale)
    if any(math.isnan(value) for value in values):
        return "no data"
    return " / ".join(f"{value:.{digits}f}" for value in values) + f" {unit}"


def ack_rows(result: AckResult) -> list[Row]:
    name = f"Acknowledgement: {result.commands} commands in {result.burst_seconds:g} s"
    return [
        Row(
            name,
            "dispatch → callback, p50 / p99 / max",
            seconds(result.seconds, "ms", 1000.0, 1),
            "p99 < 100 ms",
            result.acknowledged == result.commands and result.seconds.p99 < ACK_P99_TARGET,
        ),
        Row(name, "acknowledged (deferred)", f"{result.acknowledged} ({result.deferred})"),
    ]


def busy_ack_rows(result: BusyAckResult) -> list[Row]:
    name = (
        f"Acknowledgement while busy: {result.commands} commands in {result.burst_seconds:g} s, "
        "idle and again while tracking jobs"
    )
    both = 2 * result.commands
    return [
        Row(
            name,
            "idle: dispatch → callback, p50 / p99 / max",
            seconds(result.idle, "ms", 1000.0, 1),
        ),
        Row(
            name,
            "busy: dispatch → callback, p50 / p99 / max",
            seconds(result.busy, "ms", 1000.0, 1),
            "p99 ≤ 10 ms",
            result.acknowledged == both and result.busy.p99 <= BUSY_ACK_P99_TARGET,
        ),
        Row(
            name,
            "jobs tracked (waiting in line) as the busy burst began",
            f"{result.tracked:,} ({result.waiting:,})",
            "≥ 1,000",
            None,
        ),
        Row(name, "acknowledged", f"{result.acknowledged} of {both}"),
    ]


def load_rows(results: Sequence[LoadResult]) -> list[Row]:
    by_setting = {result.setting: result for result in results}
    adaptive = by_setting.get("adaptive") or results[0]
    name = (
        f"Throughput: {adaptive.jobs:,} concurrent jobs in {adaptive.channels} channels, "
        f"{adaptive.setting} polling"
    )
    rows = [
        Row(name, "jobs delivered", f"{adaptive.delivered:,} of {adaptive.jobs:,}"),
        Row(name, "RunComfy status/result requests per job", f"{adaptive.polls_per_job:.1f}"),
        Row(name, "delivery lag, p50 / p99 / max (emulated)", seconds(adaptive.lag)),
        Row(
            name,
            "command → video, p50 / p99 / max (emulated)",
            seconds(adaptive.command_to_video, digits=0),
        ),
        Row(
            name,
            "status message edits per job",
            f"{adaptive.edits_per_job:.2f}",
            f"≤ {EDITS_PER_JOB_TARGET:g}",
            adaptive.edits_per_job <= EDITS_PER_JOB_TARGET,
        ),
        Row(name, "Discord 429s", str(adaptive.discord_429s)),
        Row(
            name,
            "peak RSS of the bot process",
            megabytes(adaptive.peak_rss_bytes),
            "< 150 MB",
            adaptive.peak_rss_bytes < RSS_TARGET,
        ),
        Row(name, "CPU per job", f"{adaptive.cpu_per_job * 1000:.1f} ms"),
        Row(name, "peak jobs at RunComfy at once", f"{adaptive.peak_jobs_at_runcomfy:,}"),
    ]
    trade = "Polling trade-off (same load, same run)"
    for result in results:
        rows.append(
            Row(
                trade,
                f"{result.setting}: requests/job · lag p50 / p99 / max · detection p50 · "
                "peak req/s · RSS",
                f"{result.polls_per_job:.1f} · {seconds(result.lag)} · "
                f"{result.detection.p50:.2f} s · {result.peak_requests_per_second} · "
                f"{megabytes(result.peak_rss_bytes)}",
            )
        )
    fixed = by_setting.get("fixed 5 s")
    if fixed is not None and "adaptive" in by_setting:
        ratio = adaptive.polls_per_job / fixed.polls_per_job
        rows.append(
            Row(
                trade,
                "adaptive vs fixed 5 s: requests, p50 lag",
                f"{ratio:.2f}×, {adaptive.lag.p50:.2f} s vs {fixed.lag.p50:.2f} s",
                "≤ 0.5×, lag ≤ fixed 5 s",
                ratio <= POLL_RATIO_TARGET and adaptive.lag.p50 <= fixed.lag.p50,
            )
        )
    if "adaptive" in by_setting:
        rows.append(
            Row(
                trade,
                "adaptive p50 delivery lag (emulated)",
                f"{adaptive.lag.p50:.2f} s",
                "≤ 2 s",
                adaptive.lag.p50 <= LAG_P50_TARGET,
            )
        )
    return rows


def busy_rows(result: LoadResult) -> list[Row]:
    """The same jobs crowded into few channels: Discord's per-channel limit sets the pace."""
    per_channel = result.jobs // max(result.channels, 1)
    name = f"Busy channels: the same load in {result.channels} channels ({per_channel} jobs each)"
    return [
        Row(name, "jobs delivered", f"{result.delivered:,} of {result.jobs:,}"),
        Row(name, "delivery lag, p50 / p99 / max (emulated)", seconds(result.lag)),
        Row(
            name,
            "a perfect bot at Discord's full 5 per 5 s, p50 / p99 / max",
            seconds(result.channel_floor),
        ),
        Row(
            name,
            "a perfect bot at this bot's 4 per 5 s, p50 / p99 / max",
            seconds(result.pace_floor),
        ),
        Row(
            name,
            "command → video, p50 / p99 / max (emulated)",
            seconds(result.command_to_video, digits=0),
        ),
        Row(
            name,
            "Discord message edits per job · 429s",
            f"{result.edits_per_job:.2f} · {result.discord_429s}",
        ),
    ]


CROWDED_GAP_TARGET = 1.0
"""Issue 24: a crowded channel's p50 lag within this of the 4-per-5 s floor the bot keeps."""


def crowded_rows(result: LoadResult) -> list[Row]:
    """Members in one channel, videos finishing together: the channel's bucket binds. The
    goal is a p50 lag within 1 s of a perfect bot at the bot's own 4 per 5 s; the gap is
    split into what polling costs (the perfect bot, seeing each finish only when the bot
    could) and the rest (download, facts and the channel's lane)."""
    name = f"Crowded channel: {result.jobs} members, one video each, in one channel"
    gap = result.lag.p50 - result.pace_floor.p50
    polling = result.seen_floor.p50 - result.pace_floor.p50
    return [
        Row(
            name,
            "jobs delivered · Discord 429s · bucket left empty",
            f"{result.delivered} of {result.jobs} · {result.discord_429s} · "
            f"{result.bucket_emptied}",
            f"{result.jobs} · 0 · 0",
            result.delivered == result.jobs
            and result.discord_429s == 0
            and result.bucket_emptied == 0,
        ),
        Row(name, "delivery lag, p50 / p99 / max (emulated)", seconds(result.lag)),
        Row(name, "finish → the first poll that could see it", seconds(result.detection)),
        Row(
            name,
            "a perfect bot at Discord's full 5 per 5 s, p50 / p99 / max",
            seconds(result.channel_floor),
        ),
        Row(
            name,
            "a perfect bot at 4 per 5 s (never emptying the bucket)",
            seconds(result.pace_floor),
        ),
        Row(
            name,
            "the same, seeing each finish when the bot's polling could",
            seconds(result.seen_floor),
        ),
        Row(
            name,
            "p50 lag above the 4-per-5 s floor (of it: polling · posting)",
            f"{gap:.2f} s ({polling:.2f} s · {gap - polling:.2f} s)",
            f"≤ {CROWDED_GAP_TARGET:g} s",
            gap <= CROWDED_GAP_TARGET,
        ),
        Row(
            name,
            "channel messages per job (status edits go through the webhook)",
            f"{result.channel_writes_per_job:.2f}",
            "1",
            result.channel_writes_per_job <= 1.0,
        ),
    ]


def bigfile_rows(result: BigFileResult) -> list[Row]:
    name = f"Big file: one {result.size / MIB:.0f} MB video"
    attached = "attached" if result.attached_size == result.size else "NOT attached"
    return [
        Row(
            name,
            "RSS growth while delivering (before → peak)",
            f"{megabytes(result.growth_bytes)} ({megabytes(result.baseline_rss_bytes)} → "
            f"{megabytes(result.peak_rss_bytes)})",
            "< 30 MB",
            result.growth_bytes < BIG_FILE_GROWTH_TARGET and result.attached_size == result.size,
        ),
        Row(name, "ready at RunComfy → posted (real)", f"{result.real_seconds:.1f} s, {attached}"),
    ]


def startup_rows(result: StartupResult, runs: int) -> list[Row]:
    name = f"Start-up: {result.stored_jobs:,} finished jobs stored"
    return [
        Row(
            name,
            f"process start → ready, p50 / max of {runs}",
            f"{result.ready.p50:.2f} / {result.ready.max:.2f} s",
            "< 3 s",
            result.ready.p50 < STARTUP_TARGET,
        ),
        Row(
            name,
            "process start → on_ready (discord.py's guild wait)",
            f"{result.on_ready.p50:.2f} / {result.on_ready.max:.2f} s",
        ),
    ]


def polling_rows(results: Sequence[RegimeResult]) -> list[Row]:
    """Per regime, cold and warm: every setting's cost and lags, then adaptive's verdict."""
    rows: list[Row] = []
    for result in results:
        name = f"Polling: {result.label}, {result.failures}, {'warm' if result.warm else 'cold'}"
        for setting in result.settings:
            rows.append(
                Row(
                    name,
                    f"{setting.setting}: requests/job · lag p50 / p99 · failure lag p50 / p99",
                    f"{setting.requests_per_job:.1f} · {_p50_p99(setting.lag)} · "
                    f"{_p50_p99(setting.failure_lag)}"
                    + (f" · {setting.unfinished} unfinished" if setting.unfinished else ""),
                )
            )
        rows.append(_polling_verdict(name, result))
        rows.append(_failure_verdict(name, result.of("adaptive").failure_lag))
        rows.append(_eta_verdict(name, result))
    return rows


def _failure_verdict(name: str, lag: Summary) -> Row:
    return Row(
        name,
        "adaptive: failure lag p99",
        "none" if lag.count == 0 else f"{lag.p99:.2f} s ({lag.count} failures)",
        f"≤ {FAILURE_LAG_P99_TARGET:g} s",
        lag.count == 0 or lag.p99 <= FAILURE_LAG_P99_TARGET,
    )


def process_rows(results: Sequence[ProcessResult]) -> list[Row]:
    """The bot as its own process on the real clock, jobs submitted together."""
    name = "Polling: the bot's own process, real clock, 20 jobs together, runs of 10–30 s, cold"
    rows = [
        Row(
            name,
            f"{result.setting}: requests/job · lag p50 / p99 · failure lag p50 / p99",
            f"{result.requests_per_job:.1f} · {_p50_p99(result.lag)} · "
            f"{_p50_p99(result.failure_lag)}"
            + (f" · {result.unseen} unseen" if result.unseen else ""),
        )
        for result in results
    ]
    adaptive = next(result for result in results if result.setting == "adaptive")
    fixed = next(result for result in results if result.setting == "fixed 5 s")
    requests = adaptive.requests_per_job / fixed.requests_per_job
    rows.append(
        _versus_fixed(name, requests, adaptive.lag.p50 / fixed.lag.p50, adaptive.unseen == 0)
    )
    rows.append(_failure_verdict(name, adaptive.failure_lag))
    return rows


def _eta_verdict(name: str, result: RegimeResult) -> Row:
    """The status card's estimate: a target when warm, adaptive and fixed 5 s alike."""
    shown = [result.of("adaptive").eta_error, result.of("fixed 5 s").eta_error]
    text = " · ".join(
        "none" if error.count == 0 else f"{error.p50:.0%} / {error.p90:.0%}" for error in shown
    )
    met = None
    if result.warm:
        met = all(
            error.count and error.p50 <= ETA_P50_TARGET and error.p90 <= ETA_P90_TARGET
            for error in shown
        )
    return Row(
        name,
        "estimate error ÷ time left, p50 / p90: adaptive · fixed 5 s",
        text,
        f"≤ {ETA_P50_TARGET:.0%} / ≤ {ETA_P90_TARGET:.0%} warm" if result.warm else "",
        met,
    )


def _p50_p99(summary: Summary) -> str:
    if summary.count == 0:
        return "none"
    return f"{summary.p50:.2f} / {summary.p99:.2f} s"


def _polling_verdict(name: str, result: RegimeResult) -> Row:
    adaptive, fixed = result.of("adaptive"), result.of("fixed 5 s")
    requests = adaptive.requests_per_job / fixed.requests_per_job
    lag = adaptive.lag.p50 / fixed.lag.p50
    if (result.regime, result.warm) == POLLING_SHOWCASE:
        return _versus_fixed(
            name, requests, lag, adaptive.unfinished == 0, POLL_RATIO_TARGET, POLL_LAG_RATIO_TARGET
        )
    return _versus_fixed(name, requests, lag, adaptive.unfinished == 0)


def _versus_fixed(
    name: str,
    requests: float,
    lag: float,
    all_seen: bool,
    limit: float = 1.0,
    lag_limit: float = 1.0,
) -> Row:
    """Adaptive's requests and p50 lag as shares of fixed 5 s's, against their limits."""
    return Row(
        name,
        "adaptive ÷ fixed 5 s: requests, p50 lag",
        f"{requests:.2f}×, {lag:.2f}×",
        f"≤ {limit:g}×, ≤ {lag_limit:.2g}×",
        requests <= limit and lag <= lag_limit and all_seen,
    )


def fit_rows(
    results: Sequence[FitBenchResult], config: FitBenchConfig, ack: FitAckResult
) -> list[Row]:
    """Re-encoding to an upload limit: how fast, and what it costs everyone else."""
    name = (
        f"Re-encode to fit {config.limit_bytes / MIB:.3g} MiB: {config.seconds:g} s, "
        f"{config.fps} fps, noisy, with sound"
    )
    rows = [
        Row(
            name,
            f"{result.source.height}p {megabytes(result.source.size_bytes)} → "
            f"{megabytes(result.result.size_bytes)}: time (× real) · worker CPU · peak RSS",
            f"{result.fit_seconds:.1f} s ({result.realtime_ratio:.2f}×) · "
            f"{result.worker_cpu_seconds:.1f} s · "
            + (megabytes(result.worker_peak_rss_bytes) if result.worker_peak_rss_bytes else "?"),
            "≤ 1× real time",
            result.realtime_ratio <= 1.0 and result.result.size_bytes <= config.limit_bytes,
        )
        for result in results
    ]
    during = f"Acknowledgement while {ack.fits} re-encodes run ({ack.commands} commands in "
    during += f"{ack.burst_seconds:g} s, {ack.source.height}p sources)"
    posted_ok = ack.fitted_posted == ack.fits and all(
        size <= ack.limit_bytes for size in ack.fitted_sizes
    )
    return [
        *rows,
        Row(during, "before any re-encode, p50 / p99 / max", seconds(ack.quiet, "ms", 1000.0, 1)),
        Row(
            during,
            "while they run, p50 / p99 / max",
            seconds(ack.during, "ms", 1000.0, 1),
            "p99 < 100 ms",
            ack.acknowledged == 2 * ack.commands and ack.during.p99 < ACK_P99_TARGET,
        ),
        Row(
            during,
            "re-encodes ran through the whole burst",
            "yes" if ack.fits_ran_throughout else "no",
        ),
        Row(
            during,
            "fitted videos posted · re-encode → posted (real)",
            f"{ack.fitted_posted} of {ack.fits} · {ack.fit_real_seconds:.1f} s",
            "all, ≤ limit",
            posted_ok,
        ),
    ]


def render(rows: Sequence[Row]) -> str:
    lines = ["| benchmark | metric | result | target | |", "|---|---|---|---|---|"]
    previous = None
    for row in rows:
        name = row.benchmark if row.benchmark != previous else ""
        previous = row.benchmark
        lines.append(f"| {name} | {row.metric} | {row.result} | {row.target} | {row.verdict} |")
    return "\n".join(lines)
