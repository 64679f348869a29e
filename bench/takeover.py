"""Several bot processes as one bot, and one of them killed: the scale-out, end to end.

Real bot processes on one PostgreSQL database and one fake Discord that speaks shards
(`testkit.takeover`, the same scenario the end-to-end test runs at a smaller size). This
benchmark starts its own PostgreSQL and compares one SQLite process, one PostgreSQL
process, two, and two with one killed midway: delivery lag, RunComfy requests and CPU per
job, and how long the survivor took to hold the dead one's jobs. Then it kills a process
again and again (`--kills`) and reports the take-over time over those runs: from SIGKILL
to the survivor holding the first of the dead one's jobs, and all of them (p50 and max).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from testkit.load import DEFAULT_SEED
from testkit.postgres import PostgresServer, create_database, find_bin_dir
from testkit.stats import Summary
from testkit.takeover import TakeoverConfig, TakeoverResult, report, run_takeover


async def _bench(jobs: int, seed: int, speed: float, kills: int, kill_jobs: int) -> int:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        print("PostgreSQL server binaries (initdb) are not installed", file=sys.stderr)
        return 2
    server = PostgresServer(bin_dir)
    server.start()
    numbers = itertools.count()
    try:

        async def run(config: TakeoverConfig) -> TakeoverResult:
            dsn = None
            if config.database == "postgres":
                dsn = await create_database(server, f"takeover_{next(numbers)}")
            with tempfile.TemporaryDirectory(prefix="kling-takeover-") as folder:
                return await run_takeover(config, Path(folder), dsn)

        base = TakeoverConfig(jobs=jobs, seed=seed, speed=speed)
        for config in (
            replace(base, processes=1, database="sqlite", kill=False),
            replace(base, processes=1, kill=False),
            replace(base, processes=2, kill=False),
            replace(base, processes=2, kill=True),
        ):
            print(report(await run(config), config), flush=True)
        if kills:
            killed = replace(base, jobs=kill_jobs, processes=2, kill=True)
            results = []
            for attempt in range(kills):
                result = await run(replace(killed, seed=seed + attempt))
                results.append(result)
                print(f"kill {attempt + 1}:\n{report(result, killed)}", flush=True)
            print(takeover_summary(results, killed), flush=True)
    finally:
        server.stop()
    return 0


def takeover_summary(results: Sequence[TakeoverResult], config: TakeoverConfig) -> str:
    """Kill → first take-over and kill → every job taken over, p50 and max."""
    first = Summary.of(r.first_takeover_seconds for r in results if r.first_takeover_seconds)
    every = Summary.of(r.takeover_seconds for r in results if r.takeover_seconds is not None)
    exact = sum(r.every_job_delivered_once and not r.submitted_twice for r in results)
    return (
        f"take-over over {len(results)} kills (lease {config.lease_seconds:g} s): first job "
        f"p50 {first.p50:.2f} s, max {first.max:.2f} s; every job p50 {every.p50:.2f} s, "
        f"max {every.max:.2f} s; {exact} of {len(results)} runs delivered every job "
        "exactly once"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--speed", type=float, default=TakeoverConfig.speed, help="emulated seconds per real second"
    )
    parser.add_argument(
        "--kills", type=int, default=10, help="repeated kill runs for the take-over time"
    )
    parser.add_argument("--kill-jobs", type=int, default=100, help="jobs in each kill run")
    args = parser.parse_args(argv)
    return asyncio.run(_bench(args.jobs, args.seed, args.speed, args.kills, args.kill_jobs))


if __name__ == "__main__":
    sys.exit(main())
