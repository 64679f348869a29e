"""Several bot processes as one bot, and one of them killed: the scale-out, end to end.

Real bot processes on one PostgreSQL database and one fake Discord that speaks shards
(`testkit.takeover`, the same scenario the end-to-end test runs at a smaller size). This
benchmark starts its own PostgreSQL and compares one SQLite process, one PostgreSQL
process, two, and two with one killed midway: delivery lag, RunComfy requests and CPU per
job, and how long the survivor took to hold every job the dead one held.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from testkit.load import DEFAULT_SEED
from testkit.postgres import PostgresServer, create_database, find_bin_dir
from testkit.takeover import TakeoverConfig, report, run_takeover


async def _bench(jobs: int, seed: int, speed: float) -> int:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        print("PostgreSQL server binaries (initdb) are not installed", file=sys.stderr)
        return 2
    server = PostgresServer(bin_dir)
    server.start()
    try:
        base = TakeoverConfig(jobs=jobs, seed=seed, speed=speed)
        runs = [
            replace(base, processes=1, database="sqlite", kill=False),
            replace(base, processes=1, kill=False),
            replace(base, processes=2, kill=False),
            replace(base, processes=2, kill=True),
        ]
        for number, config in enumerate(runs):
            dsn = None
            if config.database == "postgres":
                dsn = await create_database(server, f"takeover_{number}")
            with tempfile.TemporaryDirectory(prefix="kling-takeover-") as folder:
                result = await run_takeover(config, Path(folder), dsn)
            print(report(result, config), flush=True)
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--speed", type=float, default=TakeoverConfig.speed, help="emulated seconds per real second"
    )
    args = parser.parse_args(argv)
    return asyncio.run(_bench(args.jobs, args.seed, args.speed))


if __name__ == "__main__":
    sys.exit(main())
