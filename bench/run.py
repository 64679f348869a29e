"""Run every benchmark and print one table: `python -m bench.run [--smoke]`.

The full run takes about eight minutes on two cores (`polling` about three of them);
`--smoke` runs each benchmark at a tiny size through the same code in well under a
minute (the test suite does that).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench.ack import AckConfig, AckResult, run_ack
from bench.bigfile import BigFileConfig, BigFileResult, run_bigfile
from bench.busy_ack import BusyAckConfig, BusyAckResult, run_busy_ack
from bench.fit import (
    SMOKE,
    SMOKE_ACK,
    FitAckConfig,
    FitAckResult,
    FitBenchConfig,
    FitBenchResult,
    run_fit_ack,
    run_fit_bench,
)
from bench.poll_process import ProcessConfig, ProcessResult, run_process_regime
from bench.polling import PollingConfig, RegimeResult, regimes, run_polling
from bench.report import (
    Row,
    ack_rows,
    bigfile_rows,
    busy_ack_rows,
    busy_rows,
    crowded_rows,
    fit_rows,
    load_rows,
    polling_rows,
    process_rows,
    render,
    startup_rows,
)
from bench.startup import StartupConfig, StartupResult, run_startup
from bench.throughput import SETTINGS, LoadConfig, LoadResult, PollSetting, run_load
from bench.world import MIB
from testkit.load import DEFAULT_SEED

POLLING_SPEED = 40.0
"""The polling benchmark runs bot and emulator in one process, so it can run much faster
than the others; at 40× a millisecond of event-loop delay is 0.04 emulated seconds."""
BENCHMARKS = ("ack", "busyack", "load", "busy", "crowded", "bigfile", "startup", "polling", "fit")


@dataclass(frozen=True, slots=True)
class Plan:
    """Sizes of one benchmark run."""

    ack: AckConfig
    busy_ack: BusyAckConfig
    """Commands answered on an idle bot and again while it tracks a thousand jobs."""
    load: LoadConfig
    busy: LoadConfig
    """The same load in few channels, where Discord's per-channel limit is what binds."""
    crowded: tuple[LoadConfig, ...]
    """Members in one channel whose videos finish close together."""
    bigfile: BigFileConfig
    startup: StartupConfig
    polling: PollingConfig
    polling_process: ProcessConfig
    fit: FitBenchConfig
    fit_ack: FitAckConfig


def full_plan(speed: float, seed: int) -> Plan:
    load = LoadConfig(
        jobs=1000,
        members=200,
        channels=100,
        speed=speed,
        command_window=20.0,
        within=600.0,
        seed=seed,
    )
    return Plan(
        ack=AckConfig(
            commands=200, members=200, channels=10, burst_seconds=1.0, speed=speed, seed=seed
        ),
        busy_ack=BusyAckConfig(
            commands=100,
            tracked=1_100,
            members=200,
            channels=10,
            burst_seconds=1.0,
            fill_seconds=20.0,
            active_limit=50,
            speed=speed,
            seed=seed,
        ),
        load=load,
        busy=replace(load, channels=10),
        crowded=tuple(crowded(members, speed, seed) for members in (30, 100)),
        bigfile=BigFileConfig(size=100 * MIB, speed=speed),
        startup=StartupConfig(stored_jobs=10_000, runs=3, speed=speed, seed=seed),
        polling=PollingConfig(regimes(), speed=POLLING_SPEED, seed=seed),
        polling_process=ProcessConfig(seed=seed),
        fit=FitBenchConfig(),
        fit_ack=FitAckConfig(
            commands=200,
            burst_seconds=1.0,
            source=replace(FitBenchConfig(), sizes=((1920, 1080),)),
            speed=speed,
            seed=seed,
        ),
    )


def crowded(members: int, speed: float, seed: int) -> LoadConfig:
    """`members` people in one channel, one video each, asked within 2 s."""
    return LoadConfig(
        jobs=members,
        members=members,
        channels=1,
        speed=speed,
        command_window=2.0,
        within=300.0,
        seed=seed,
        together=True,
    )


def smoke_plan(seed: int) -> Plan:
    speed = 60.0
    load = LoadConfig(
        jobs=10,
        members=5,
        channels=2,
        speed=speed,
        command_window=5.0,
        within=60.0,
        seed=seed,
    )
    return Plan(
        ack=AckConfig(
            commands=10, members=10, channels=2, burst_seconds=0.2, speed=speed, seed=seed
        ),
        busy_ack=BusyAckConfig(
            commands=10,
            tracked=40,
            members=10,
            channels=2,
            burst_seconds=0.2,
            fill_seconds=1.0,
            active_limit=3,
            speed=speed,
            seed=seed,
        ),
        load=load,
        busy=replace(load, channels=1),
        crowded=(replace(crowded(8, speed, seed), within=60.0),),
        bigfile=BigFileConfig(size=2 * MIB, speed=speed),
        startup=StartupConfig(
            stored_jobs=200, runs=1, speed=speed, seed=seed, guild_ready_timeout=0.05
        ),
        polling=PollingConfig(regimes(0.05), speed=200.0, seed=seed, history=10, within=60.0),
        polling_process=ProcessConfig(
            jobs=4, shortest=1.0, longest=3.0, queue_wait=1.0, seed=seed, within=30.0
        ),
        fit=SMOKE,
        fit_ack=replace(SMOKE_ACK, seed=seed),
    )


@dataclass
class Results:
    ack: AckResult | None = None
    busy_ack: BusyAckResult | None = None
    load: list[LoadResult] | None = None
    busy: LoadResult | None = None
    crowded: list[LoadResult] | None = None
    bigfile: BigFileResult | None = None
    startup: StartupResult | None = None
    polling: list[RegimeResult] | None = None
    polling_process: list[ProcessResult] | None = None
    fit: list[FitBenchResult] | None = None
    fit_ack: FitAckResult | None = None

    def rows(self, plan: Plan) -> list[Row]:
        rows: list[Row] = []
        if self.ack is not None:
            rows += ack_rows(self.ack)
        if self.busy_ack is not None:
            rows += busy_ack_rows(self.busy_ack)
        if self.load:
            rows += load_rows(self.load)
        if self.busy is not None:
            rows += busy_rows(self.busy)
        for result in self.crowded or ():
            rows += crowded_rows(result)
        if self.bigfile is not None:
            rows += bigfile_rows(self.bigfile)
        if self.startup is not None:
            rows += startup_rows(self.startup, plan.startup.runs)
        if self.polling:
            rows += polling_rows(self.polling)
        if self.polling_process:
            rows += process_rows(self.polling_process)
        if self.fit is not None and self.fit_ack is not None:
            rows += fit_rows(self.fit, plan.fit, self.fit_ack)
        errors = sum(
            result.errors_logged
            for result in (
                self.ack,
                self.busy_ack,
                self.busy,
                self.bigfile,
                self.startup,
                *(self.load or ()),
                *(self.crowded or ()),
                self.fit_ack,
            )
            if result is not None
        )
        rows.append(Row("Sanity", "ERROR lines in the bot's logs", str(errors), "0", errors == 0))
        return rows


async def run_all(
    plan: Plan,
    only: Sequence[str],
    workdir: Path,
    log: Callable[[str], None],
    settings: Sequence[PollSetting] = SETTINGS,
) -> Results:
    results = Results()
    if "ack" in only:
        log(f"acknowledgement: {plan.ack.commands} commands …")
        results.ack = await run_ack(plan.ack, _fresh(workdir / "ack"))
    if "busyack" in only:
        config = plan.busy_ack
        log(f"acknowledgement while busy: {config.commands} commands, {config.tracked} jobs …")
        results.busy_ack = await run_busy_ack(config, _fresh(workdir / "busyack"))
    if "load" in only:
        results.load = []
        for setting in settings:
            log(f"throughput: {plan.load.jobs} jobs, {setting.label} polling …")
            folder = _fresh(workdir / f"load-{setting.key}")
            results.load.append(await run_load(setting, plan.load, folder))
    if "busy" in only:
        adaptive = next(setting for setting in SETTINGS if setting.key == "adaptive")
        log(f"busy channels: {plan.busy.jobs} jobs in {plan.busy.channels} channels …")
        results.busy = await run_load(adaptive, plan.busy, _fresh(workdir / "busy"))
    if "crowded" in only:
        adaptive = next(setting for setting in SETTINGS if setting.key == "adaptive")
        results.crowded = []
        for crowd in plan.crowded:
            log(f"crowded channel: {crowd.members} members in one channel …")
            folder = _fresh(workdir / f"crowded-{crowd.members}")
            results.crowded.append(await run_load(adaptive, crowd, folder))
    if "bigfile" in only:
        log(f"big file: {plan.bigfile.size // MIB} MB …")
        results.bigfile = await run_bigfile(plan.bigfile, _fresh(workdir / "bigfile"))
    if "startup" in only:
        log(f"start-up: {plan.startup.stored_jobs} stored jobs …")
        results.startup = await run_startup(plan.startup, _fresh(workdir / "startup"))
    if "polling" in only:
        results.polling = await run_polling(plan.polling, _fresh(workdir / "polling"), log)
        log("polling: the bot's own process on the real clock …")
        results.polling_process = await run_process_regime(
            plan.polling_process, _fresh(workdir / "polling-process")
        )
    if "fit" in only:
        log(f"fit: {len(plan.fit.sizes)} videos of {plan.fit.seconds:g} s …")
        results.fit = await run_fit_bench(plan.fit, _fresh(workdir / "fit"))
        log(f"fit: {plan.fit_ack.commands} commands while {plan.fit_ack.fits} re-encodes run …")
        results.fit_ack = await run_fit_ack(plan.fit_ack, _fresh(workdir / "fit-ack"))
    return results


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def machine() -> str:
    model = "unknown CPU"
    memory = "unknown RAM"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB RAM"
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} × {model}, {memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    parser.add_argument("--speed", type=float, default=6.0, help="emulated seconds per real second")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the load model")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset")
    parser.add_argument("--jobs", type=int, help="jobs in the throughput load (default 1000)")
    parser.add_argument(
        "--channels", type=int, help="channels of the throughput load (default 100)"
    )
    parser.add_argument(
        "--poll",
        default=",".join(setting.key for setting in SETTINGS),
        help="comma-separated poll settings for the throughput load",
    )
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--keep", action="store_true", help="keep the bot logs and databases")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {BENCHMARKS}")
    settings = [s for s in SETTINGS if s.key in {key.strip() for key in args.poll.split(",")}]
    if not settings:
        parser.error(f"--poll must name some of: {', '.join(s.key for s in SETTINGS)}")
    plan = smoke_plan(args.seed) if args.smoke else full_plan(args.speed, args.seed)
    overrides = {"jobs": args.jobs, "channels": args.channels}
    plan = replace(plan, load=replace(plan.load, **{k: v for k, v in overrides.items() if v}))
    workdir = Path(tempfile.mkdtemp(prefix="kling-bench-"))
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    try:
        results = asyncio.run(run_all(plan, only, workdir, log, settings))
    finally:
        if args.keep:
            log(f"logs and databases kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    speed = plan.load.speed
    print(f"Machine: {machine()}")
    print(
        f"Clock: emulated time runs {speed:g}× real time (RunComfy emulator, bot, Discord "
        f"pacing); total {time.monotonic() - started:.0f} s real\n"
    )
    print(render(results.rows(plan)))
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(results), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
