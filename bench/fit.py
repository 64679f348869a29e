"""Fitting Kling-sized videos to Discord's 10 MiB limit: `python -m bench.fit [--smoke]`.

For a 15 s 1080p and a 15 s 720p video (24 fps, with sound) of a test pattern under
moving noise, encoded at a high bitrate (~20 Mbit/s at 1080p, like a generous Kling
output but harder to compress), times `VideoFitter.fit` end to end, worker start-up
included, and reports the worker process's peak RSS and CPU time. The goal: a fit takes
no longer than the video lasts, on two cores. Making the sources is not timed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.media.fitter import VideoFitter
from bot.media.probe import MediaFacts, probe
from tests.bot.media.media_factory import make_video

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FitBenchConfig:
    sizes: tuple[tuple[int, int], ...] = ((1920, 1080), (1280, 720))
    seconds: float = 15.0
    fps: int = 24
    limit_bytes: int = 10 * MIB
    noise: int = 10
    crf: int = 23
    time_limit_seconds: float = 600.0


SMOKE = FitBenchConfig(sizes=((160, 120),), seconds=1.0, fps=10, limit_bytes=60_000)


@dataclass(frozen=True, slots=True)
class FitBenchResult:
    source: MediaFacts
    result: MediaFacts
    fit_seconds: float
    worker_cpu_seconds: float
    worker_peak_rss_bytes: int | None
    attempts: int

    @property
    def realtime_ratio(self) -> float:
        """Fit time over video duration: at most 1 meets the goal."""
        return self.fit_seconds / self.source.duration_seconds


async def run_fit_bench(config: FitBenchConfig, workdir: Path) -> list[FitBenchResult]:
    fitter = VideoFitter(max_parallel=1)
    results = []
    for width, height in config.sizes:
        source = await asyncio.to_thread(
            make_video,
            workdir / f"source-{height}p.mp4",
            seconds=config.seconds,
            width=width,
            height=height,
            fps=config.fps,
            audio=True,
            noise=config.noise,
            crf=config.crf,
        )
        cpu_before = _children_cpu_seconds()
        started = time.perf_counter()
        fitted = await fitter.fit(
            source,
            workdir / f"fitted-{height}p.mp4",
            limit_bytes=config.limit_bytes,
            time_limit_seconds=config.time_limit_seconds,
        )
        results.append(
            FitBenchResult(
                source=fitted.source,
                result=probe(fitted.path),
                fit_seconds=time.perf_counter() - started,
                worker_cpu_seconds=_children_cpu_seconds() - cpu_before,
                worker_peak_rss_bytes=fitted.worker_peak_rss_bytes,
                attempts=fitted.attempts,
            )
        )
    return results


def render(results: Sequence[FitBenchResult], config: FitBenchConfig, load: float) -> str:
    header = (
        f"fit to {config.limit_bytes / MIB:.1f} MiB on {os.cpu_count()} cores "
        f"(1-minute load average before: {load:.2f})"
    )
    columns = (
        f"{'source':<26} {'fit s':>6} {'×real':>6} {'cpu s':>6} {'peak RSS':>9}  "
        f"{'result':<26} tries"
    )
    lines = [header, columns]
    for row in results:
        source, result = row.source, row.result
        rss = f"{row.worker_peak_rss_bytes / MIB:.0f} MiB" if row.worker_peak_rss_bytes else "?"
        lines.append(
            f"{_describe(source):<26} {row.fit_seconds:>6.1f} {row.realtime_ratio:>6.2f} "
            f"{row.worker_cpu_seconds:>6.1f} {rss:>9}  {_describe(result):<26} {row.attempts}"
        )
    return "\n".join(lines)


def _describe(facts: MediaFacts) -> str:
    return (
        f"{facts.height}p {facts.duration_seconds:.0f}s {facts.size_bytes / MIB:.2f}MiB "
        f"{facts.bitrate / 1e6:.1f}Mb/s"
    )


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="one tiny video, a few seconds")
    args = parser.parse_args(argv)
    config = SMOKE if args.smoke else FitBenchConfig()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as workdir:
        results = asyncio.run(run_fit_bench(config, Path(workdir)))
    print(render(results, config, load))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
