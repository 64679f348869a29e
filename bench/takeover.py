"""Several bot processes as one bot, and one of them killed: the scale-out, end to end.

Real bot processes (`testkit.bot_process`) on one PostgreSQL database and one fake Discord
that speaks shards: each process runs some shards and receives only its servers' commands.
The load is spread over one server per process. With `kill`, once a share of the first
process's videos is out, it gets SIGKILL: no clean shutdown, its leases left to run out.
Then every job is accounted for from the database and the fake's channels: delivered
exactly once, none sent to RunComfy twice, and how long the survivor took to hold every
job the dead one held.

The same code runs the benchmark (`python -m bench.takeover`, which also starts its own
PostgreSQL, and compares one SQLite process, one PostgreSQL process and two) and, at a
smaller size, the end-to-end test `tests/e2e/test_takeover.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import asyncpg

from bench.load import DEFAULT_SEED, LoadModel
from bench.soak import DELIVERY, SETTLED_STATES, job_rows, logged_problems, posted_videos
from bench.stats import Summary
from bench.world import DISCORD_CHANNEL_LIMIT, job_number
from bot.clock import ScaledClock
from testkit.discord import FakeChannel, FakeDiscord, FakeGuild, FakeInteraction, FakeMember
from testkit.postgres import PostgresServer, find_bin_dir
from testkit.process import BotProcess
from testkit.runcomfy import API_ENDPOINTS, RunComfyEmulator
from testkit.waiting import eventually


@dataclass(frozen=True)
class TakeoverConfig:
    jobs: int = 200
    processes: int = 2
    """Bot processes, one shard (and one server) each."""
    database: str = "postgres"
    """`postgres` or `sqlite` (one process only)."""
    kill: bool = True
    """SIGKILL the first process midway (needs two processes)."""
    kill_after: float = 0.3
    """Share of the first process's videos posted before it is killed."""
    lease_seconds: float = 2.0
    speed: float = 40.0
    channels_per_server: int = 4
    members_per_server: int = 12
    seed: int = DEFAULT_SEED
    within: float = 240.0
    """Real seconds for everything to settle."""


@dataclass
class TakeoverResult:
    jobs: int
    answered: int
    delivered_once: int
    duplicates: dict[int, int]
    unsettled: dict[int, str]
    submitted_twice: dict[str, int]
    states: dict[str, int]
    lag: Summary
    """Emulated seconds from RunComfy finishing a video to its message at the fake."""
    requests_per_job: float
    cpu_ms_per_job: float
    """Every bot process's CPU, per job."""
    real_seconds: float
    killed_holding: int = 0
    """Open jobs the killed process held when it died."""
    takeover_seconds: float | None = None
    """Real seconds from SIGKILL until another process held every job the dead one held."""
    problems: list[str] = field(default_factory=list)
    """ERROR lines in the survivors' logs."""

    @property
    def every_job_delivered_once(self) -> bool:
        return (
            self.delivered_once == self.jobs == self.answered
            and not self.duplicates
            and not self.unsettled
        )


@dataclass
class _Server:
    guild: FakeGuild
    channels: list[FakeChannel]
    members: list[FakeMember]


async def run_takeover(config: TakeoverConfig, workdir: Path, dsn: str | None) -> TakeoverResult:
    """One run in fresh fakes; `dsn` is an empty PostgreSQL database (None for SQLite)."""
    if config.kill and config.processes < 2:
        raise ValueError("killing a process needs another to take over")
    clock = ScaledClock(config.speed)
    count, per = DISCORD_CHANNEL_LIMIT
    fake = await FakeDiscord(
        channel_rate_limit=(count, per / config.speed), recommended_shards=config.processes
    ).start()
    model = LoadModel(config.seed)
    emulator = RunComfyEmulator(
        clock=clock,
        workers=100_000,
        generation_time=model.generation_time,
        queue_delay=model.queue_delay,
    )
    await emulator.start()
    posted_at: dict[int, float] = {}

    def record(message: object) -> None:
        content = getattr(message, "content", None) or ""
        if (match := DELIVERY.search(content)) is not None:
            posted_at.setdefault(int(match[1]), clock.now())

    fake.on_message_created(record)
    servers = [_server(fake, shard, config) for shard in range(config.processes)]
    bots: list[BotProcess] = []
    try:
        for shard in range(config.processes):
            env = _environment(fake, emulator, config, workdir, dsn, shard)
            folder = workdir / f"process-{shard}"
            folder.mkdir(parents=True, exist_ok=True)
            bot = await BotProcess.start(
                fake, env, workdir=folder, speed=config.speed, guild_ready_timeout=0.2
            )
            bots.append(bot)
        for bot in bots:
            await bot.wait_on_ready()
        return await _run(config, fake, emulator, servers, bots, workdir, dsn, posted_at)
    finally:
        for bot in bots:
            await bot.stop()
        await emulator.close()
        await fake.close()


def _server(fake: FakeDiscord, shard: int, config: TakeoverConfig) -> _Server:
    guild = fake.add_guild(f"Prompt Club {shard}", shard=(shard, config.processes))
    return _Server(
        guild,
        [fake.add_text_channel(guild, f"s{shard}-{n}") for n in range(config.channels_per_server)],
        [fake.add_member(guild, f"s{shard}-m{n}") for n in range(config.members_per_server)],
    )


def _environment(
    fake: FakeDiscord,
    emulator: RunComfyEmulator,
    config: TakeoverConfig,
    workdir: Path,
    dsn: str | None,
    shard: int,
) -> dict[str, str]:
    database = dsn or f"sqlite:///{(workdir / 'bot.sqlite3').resolve()}"
    env = {
        "DISCORD_TOKEN": fake.bot_token,
        "RUNCOMFY_API_TOKEN": emulator.token,
        "RUNCOMFY_API_BASE": emulator.base_url,
        "DATABASE_URL": database,
        "JOB_LEASE_SECONDS": str(config.lease_seconds),
        "MAX_ACTIVE_JOBS_PER_USER": "100",
        "MAX_ACTIVE_JOBS_PER_SERVER": "1000",
        "MAX_ACTIVE_JOBS_TOTAL": "1000",
        "MAX_WAITING_JOBS_PER_USER": "100",
        "RUNCOMFY_MAX_REQUESTS_PER_SECOND": str(min(1000.0, 10 * config.speed)),
    }
    if config.processes > 1:
        env |= {"SHARD_COUNT": str(config.processes), "SHARD_IDS": str(shard)}
    return env


async def _run(
    config: TakeoverConfig,
    fake: FakeDiscord,
    emulator: RunComfyEmulator,
    servers: list[_Server],
    bots: list[BotProcess],
    workdir: Path,
    dsn: str | None,
    posted_at: dict[int, float],
) -> TakeoverResult:
    started = time.monotonic()
    cpu_before = sum(bot.cpu_seconds() for bot in bots)
    plans = LoadModel(config.seed).plans(config.jobs, members=1, channels=1)
    interactions: list[tuple[int, FakeInteraction]] = []
    for plan in plans:
        shard = plan.index % len(servers)
        server = servers[shard]
        interaction = await fake.invoke_slash(
            server.channels[plan.index % len(server.channels)],
            server.members[plan.index % len(server.members)],
            "video",
            subcommand="generate",
            options={"prompt": plan.prompt, "duration": plan.duration},
        )
        interactions.append((shard, interaction))
    numbers = await _numbers(interactions, within=config.within)
    killed_holding = 0
    takeover: float | None = None
    cpu_dead = 0.0
    if config.kill:
        first = {number for shard, number in numbers if shard == 0}
        wanted = max(1, int(len(first) * config.kill_after))
        await eventually(
            lambda: len(first & posted_at.keys()) >= wanted,
            within=config.within,
            what="a share of the first process's videos",
        )
        victim = bots[0]
        cpu_dead = victim.cpu_seconds()
        assert dsn is not None
        killed_holding = await _held_by(dsn, victim.pid)
        victim.process.kill()
        killed_at = time.monotonic()
        await victim.process.wait()
        await _until_async(lambda: _held_by_zero(dsn, victim.pid), within=config.within)
        takeover = time.monotonic() - killed_at
    job_ids = [number for _, number in numbers]
    await _until_async(lambda: _all_settled(workdir, dsn, job_ids), within=config.within)
    await asyncio.sleep(0.5)
    survivors = bots[1:] if config.kill else bots
    cpu = sum(bot.cpu_seconds() for bot in survivors) + cpu_dead - cpu_before
    rows = await _rows(workdir, dsn)
    videos = posted_videos(fake, [channel for server in servers for channel in server.channels])
    finished = {
        job.payload["prompt"]: job.finished_at
        for job in emulator.jobs.values()
        if job.finished_at is not None
    }
    prompts = {plan.index: plan.prompt for plan in plans}
    by_number = {number: prompts[index] for index, (_, number) in enumerate(numbers)}
    lags = [
        posted_at[number] - finished[by_number[number]]
        for number in job_ids
        if number in posted_at and by_number[number] in finished
    ]
    submits = Counter(job.payload["prompt"] for job in emulator.jobs.values())
    requests = sum(emulator.counts[endpoint] for endpoint in API_ENDPOINTS)
    return TakeoverResult(
        jobs=config.jobs,
        answered=len(numbers),
        delivered_once=sum(
            1 for job_id in job_ids if rows.get(job_id) == "delivered" and videos[job_id] == 1
        ),
        duplicates={job_id: n for job_id, n in videos.items() if n > 1},
        unsettled={
            job_id: rows.get(job_id, "missing")
            for job_id in job_ids
            if rows.get(job_id) != "delivered"
        },
        submitted_twice={prompt: n for prompt, n in submits.items() if n > 1},
        states=dict(Counter(rows.values())),
        lag=Summary.of(lags),
        requests_per_job=requests / max(1, config.jobs),
        cpu_ms_per_job=1000 * cpu / max(1, config.jobs),
        real_seconds=time.monotonic() - started,
        killed_holding=killed_holding,
        takeover_seconds=takeover,
        problems=[line for bot in survivors for line in logged_problems(bot.log_path)],
    )


async def _numbers(
    interactions: list[tuple[int, FakeInteraction]], *, within: float
) -> list[tuple[int, int]]:
    """(shard, job id) of every command, once each has its public reply."""

    def answered() -> bool:
        return all(job_number(interaction) is not None for _, interaction in interactions)

    with contextlib.suppress(AssertionError):
        await eventually(answered, within=within, what="every command's public reply")
    return [
        (shard, number)
        for shard, interaction in interactions
        if (number := job_number(interaction)) is not None
    ]


async def _until_async(condition: Callable[[], Awaitable[bool]], *, within: float) -> None:
    """`testkit.waiting.eventually` for a condition that must ask the database."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {within} s")
        await asyncio.sleep(0.05)


async def _fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(query, *args)
        return rows
    finally:
        await conn.close()


async def _held_by(dsn: str, pid: int) -> int:
    """Open jobs whose lease names the process `pid` (its name is host:pid:random)."""
    rows = await _fetch(
        dsn,
        "SELECT count(*) AS n FROM jobs WHERE is_open = 1 AND lease_owner LIKE $1",
        f"%:{pid}:%",
    )
    return int(rows[0]["n"])


async def _held_by_zero(dsn: str, pid: int) -> bool:
    return await _held_by(dsn, pid) == 0


async def _rows(workdir: Path, dsn: str | None) -> dict[int, str]:
    if dsn is not None:
        return {row["id"]: row["state"] for row in await _fetch(dsn, "SELECT id, state FROM jobs")}
    return {job_id: row[0] for job_id, row in job_rows(workdir / "bot.sqlite3").items()}


async def _all_settled(workdir: Path, dsn: str | None, job_ids: list[int]) -> bool:
    rows = await _rows(workdir, dsn)
    return all(rows.get(job_id) in SETTLED_STATES for job_id in job_ids)


def report(result: TakeoverResult, config: TakeoverConfig) -> str:
    kind = f"{config.processes} × {config.database}" + (", one killed" if config.kill else "")
    lines = [
        f"{kind}: {result.jobs} jobs, {result.answered} answered, "
        f"{result.delivered_once} delivered exactly once ({result.real_seconds:.1f} s real)",
        f"  lag p50 {result.lag.p50:.2f} s, p99 {result.lag.p99:.2f} s (emulated); "
        f"{result.requests_per_job:.2f} RunComfy requests per job; "
        f"{result.cpu_ms_per_job:.1f} ms CPU per job",
        f"  states {result.states}; duplicates {result.duplicates or 'none'}; "
        f"sent twice {result.submitted_twice or 'none'}",
    ]
    if result.takeover_seconds is not None:
        lines.append(
            f"  killed holding {result.killed_holding} open jobs; every one held by the "
            f"survivor {result.takeover_seconds:.2f} s later (lease {config.lease_seconds} s)"
        )
    if result.problems:
        lines.append(f"  {len(result.problems)} ERROR lines, e.g. {result.problems[0][:160]}")
    return "\n".join(lines)


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
                name = f"takeover_{number}"
                await _fetch(server.dsn(), f"CREATE DATABASE {name}")
                dsn = server.dsn(name)
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
