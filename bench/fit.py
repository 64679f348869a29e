"""Fitting Kling-sized videos to Discord's 10 MiB limit: `python -m bench.fit [--smoke]`
(or `python -m bench.run --only fit`, which also runs the acknowledgement part).

For a 15 s 1080p and a 15 s 720p video (24 fps, with sound) of a test pattern under
moving noise, encoded at a high bitrate (~20 Mbit/s at 1080p, like a generous Kling
output but harder to compress), times `VideoFitter.fit` end to end, worker start-up
included, and reports the worker process's peak RSS and CPU time. The goal: a fit takes
no longer than the video lasts, on two cores. Making the sources is not timed.

`run_fit_ack` measures what re-encoding costs everyone else: the real bot process, on a
server whose upload limit is 10 MiB, gets two 1080p videos to fit (`FIT_MAX_PARALLEL=2`,
so both cores encode), and while both re-encodes run (their status messages say so) a
burst of commands arrives; their acknowledgement times are compared with the same burst
before any re-encode. The goal: acknowledgements unaffected (p99 < 100 ms either way).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.ack import _acknowledged, _burst
from bench.world import BenchWorld, open_world
from bot.media.fitter import VideoFitter
from bot.media.probe import MediaFacts, probe
from testkit.discord import FakeInteraction, FakeMessage
from testkit.evidence import job_number
from testkit.load import DEFAULT_SEED, LoadModel
from testkit.process import BotProcess
from testkit.runcomfy import JobOutcome
from testkit.stats import Summary
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
FIT_PROMPT = "fit: "
"""Jobs whose prompt starts so get the big source video; the others the tiny sample."""
RE_ENCODING = "Re-encoding the video"
FIT_CHANNEL = 2
"""The bursts use channels 0 and 1."""


@dataclass(frozen=True, slots=True)
class FitAckConfig:
    commands: int
    burst_seconds: float
    """Real seconds over which each burst of commands arrives."""
    source: FitBenchConfig
    """The video each re-encoding job gets (its first size) and the server's limit."""
    speed: float
    fits: int = 2
    seed: int = DEFAULT_SEED


@dataclass(frozen=True, slots=True)
class FitAckResult:
    commands: int
    burst_seconds: float
    fits: int
    source: MediaFacts
    limit_bytes: int
    quiet: Summary
    """Dispatch → callback (real seconds), before any re-encode."""
    during: Summary
    """The same, while `fits` re-encodes ran."""
    acknowledged: int
    """Of the 2 × `commands` in both bursts."""
    fits_ran_throughout: bool
    """Every re-encode had started before the burst and none had finished after it."""
    fitted_posted: int
    fitted_sizes: tuple[int, ...]
    fit_real_seconds: float
    """From both re-encodes showing on their status messages to the last one posted."""
    errors_logged: int


SMOKE_ACK = FitAckConfig(commands=10, burst_seconds=0.2, source=SMOKE, speed=60.0)


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


async def run_fit_ack(config: FitAckConfig, workdir: Path) -> FitAckResult:
    """A burst of commands before and during `config.fits` re-encodes in the bot."""
    source_path = await _make_source(config.source, workdir)
    source = await asyncio.to_thread(probe, source_path)
    data = await asyncio.to_thread(source_path.read_bytes)
    plans = LoadModel(config.seed).plans(2 * config.commands + 1, members=50, channels=2)
    world = await open_world(
        speed=config.speed,
        channels=3,
        members=50,
        upload_limit=config.source.limit_bytes,
        generation_time=lambda payload: 5.0 if _is_fit(payload) else 24 * 3600.0,
        outcome=lambda payload: JobOutcome.complete(video_data=data if _is_fit(payload) else None),
    )
    try:
        env = world.settings(
            workdir / "bot.sqlite3",
            FIT_MAX_PARALLEL=str(config.fits),
            FIT_TIME_LIMIT_SECONDS=str(config.source.time_limit_seconds),
            MAX_ACTIVE_JOBS_PER_USER="50",
            MAX_ACTIVE_JOBS_PER_SERVER="1000",
            MAX_ACTIVE_JOBS_TOTAL="1000",
        )
        bot = await BotProcess.start(
            world.fake, env, workdir=workdir, speed=config.speed, guild_ready_timeout=0.2
        )
        try:
            await bot.wait_on_ready()
            await (await world.generate(plans[-1])).wait_ack(timeout=10.0)
            quiet = await _burst(world, plans[: config.commands], config.burst_seconds)
            await _acknowledged(quiet, within=10.0)
            fit_jobs, started = await _start_fits(world, config.fits)
            during = await _burst(world, plans[config.commands : -1], config.burst_seconds)
            await _acknowledged(during, within=10.0)
            throughout = not any(number in world.deliveries for number in fit_jobs)
            await _until(lambda: all(n in world.deliveries for n in fit_jobs), within=1800.0)
            fit_seconds = time.monotonic() - started
        finally:
            await bot.stop()
        return FitAckResult(
            commands=config.commands,
            burst_seconds=config.burst_seconds,
            fits=config.fits,
            source=source,
            limit_bytes=config.source.limit_bytes,
            quiet=Summary.of(_ack_times(quiet)),
            during=Summary.of(_ack_times(during)),
            acknowledged=len(_ack_times(quiet)) + len(_ack_times(during)),
            fits_ran_throughout=throughout,
            fitted_posted=len(_fitted_sizes(world, fit_jobs)),
            fitted_sizes=tuple(_fitted_sizes(world, fit_jobs)),
            fit_real_seconds=fit_seconds,
            errors_logged=len(bot.logged_problems()),
        )
    finally:
        await world.close()


async def _make_source(config: FitBenchConfig, workdir: Path) -> Path:
    width, height = config.sizes[0]
    return await asyncio.to_thread(
        make_video,
        workdir / f"ack-source-{height}p.mp4",
        seconds=config.seconds,
        width=width,
        height=height,
        fps=config.fps,
        audio=True,
        noise=config.noise,
        crf=config.crf,
    )


def _is_fit(payload: object) -> bool:
    return isinstance(payload, dict) and str(payload.get("prompt", "")).startswith(FIT_PROMPT)


async def _start_fits(world: BenchWorld, count: int) -> tuple[list[int], float]:
    """Ask for `count` videos that need re-encoding, in a channel of their own (so their
    status messages do not queue behind the bursts'); returns their job ids once every one
    shows a re-encode in progress (or is already posted), and when that was (monotonic)."""
    interactions: list[FakeInteraction] = []
    for number in range(count):
        interactions.append(
            await world.fake.invoke_slash(
                world.channels[FIT_CHANNEL],
                world.members[number],
                "video",
                subcommand="generate",
                options={"prompt": f"{FIT_PROMPT}an aerial shot of a city, take {number + 1}"},
            )
        )
    await _until(lambda: all(job_number(it) is not None for it in interactions), within=60.0)
    jobs = [job for it in interactions if (job := job_number(it)) is not None]
    await _until(lambda: _re_encoding(world) | set(world.deliveries) >= set(jobs), within=300.0)
    return jobs, time.monotonic()


def _re_encoding(world: BenchWorld) -> set[int]:
    """Job ids whose status message shows a re-encode in progress."""
    return {
        number
        for message in world.bot_messages()
        if (number := _status_job(message)) is not None and RE_ENCODING in _embed_text(message)
    }


def _status_job(message: FakeMessage) -> int | None:
    footer = next((str(e.get("footer", {}).get("text", "")) for e in message.embeds), "")
    return int(footer.removeprefix("Job #")) if footer.startswith("Job #") else None


def _embed_text(message: FakeMessage) -> str:
    return " ".join(
        str(item.get("value", "")) for embed in message.embeds for item in embed.get("fields", [])
    )


def _fitted_sizes(world: BenchWorld, jobs: Sequence[int]) -> list[int]:
    return [
        message.attachments[0].size
        for message in world.bot_messages()
        if message.attachments and any(f"**#{number}**" in message.text for number in jobs)
    ]


def _ack_times(interactions: Sequence[FakeInteraction]) -> list[float]:
    return [it.acked_after for it in interactions if it.acked_after is not None]


async def _until(condition: Callable[[], bool], *, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {within:.0f} s")
        await asyncio.sleep(0.02)


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
