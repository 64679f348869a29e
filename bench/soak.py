"""A bounded soak: many jobs through the real bot process while things go wrong.

`python -m bench.soak` (2,000 jobs) or `--smoke` (40). On the scaled clock, members send
their `/video generate` commands over a window while the benchmark injects:

- RunComfy faults on about 5 % of requests (429 with Retry-After, 500/503, slow answers),
  queued on the emulator as requests arrive;
- one SQLite write outage in the middle (`bench/soak_bot.py` makes the bot's
  `JobStore.insert`/`save` raise "database is locked" while a flag file exists);
- one Discord outage longer than 15 emulated minutes (`set_outage` on the fake).

Then it waits for every job to settle and accounts for each: delivered exactly once
(video messages counted per job at the fake), or ended with a failure the bot stated;
no prompt submitted twice (the emulator's jobs per prompt); and the bot's RSS, asyncio
task count and temporary files compared between the middle of the run and its end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import soak_bot
from bench.load import DEFAULT_SEED, JobPlan, LoadModel
from bench.process import ANSI, BotProcess
from bench.world import BenchWorld, job_number, open_world
from tests.fakes.discord import FakeInteraction
from tests.fakes.runcomfy_emulator import API_ENDPOINTS, Fault, RequestRecord

MIB = 1024 * 1024
DELIVERY = re.compile(r"your video \*\*#(\d+)\*\* is ready")
LEVEL = re.compile(r"^\S+ \S+ \[?(ERROR|CRITICAL)\b")
FAULT_TICK_SECONDS = 0.02
"""Real seconds between fault top-ups: faults are queued for requests about to arrive."""
ANSWER_GRACE = 20.0
"""Real seconds to keep waiting for unanswered commands once every job is settled."""
SETTLED_STATES = ("delivered", "delivery_failed", "failed", "cancelled", "submission_unknown")


@dataclass(frozen=True, slots=True)
class SoakConfig:
    jobs: int
    members: int
    channels: int
    speed: float
    command_window: float
    """Emulated seconds over which the commands arrive."""
    fault_rate: float = 0.05
    store_outage_at: float = 0.3
    """When the SQLite outage starts, as a fraction of the command window."""
    store_outage_seconds: float = 90.0
    discord_outage_at: float = 0.5
    discord_outage_seconds: float = 16 * 60.0
    """Emulated seconds; Discord's outage has to outlast 15 minutes."""
    within: float = 900.0
    """Real seconds to wait for every job to settle."""
    seed: int = DEFAULT_SEED

    def limits(self) -> dict[str, str]:
        """Roomy limits, so jobs wait in line for slots rather than being refused."""
        per_member = -(-self.jobs // self.members)
        return {
            "MAX_ACTIVE_JOBS_PER_USER": "5",
            "MAX_WAITING_JOBS_PER_USER": str(min(per_member + 5, 100)),
            "MAX_ACTIVE_JOBS_PER_SERVER": "200",
            "MAX_ACTIVE_JOBS_TOTAL": "200",
            "RUNCOMFY_MAX_REQUESTS_PER_SECOND": "200",
            "RUNCOMFY_MAX_CONCURRENT_REQUESTS": "50",
            "JOB_DEADLINE_MINUTES": "120",
        }


@dataclass(frozen=True, slots=True)
class Vitals:
    """The bot process at one moment."""

    rss_bytes: int
    peak_rss_bytes: int
    """The most resident so far: an end RSS near it is memory kept after the peak (the
    allocator's high-water mark or a leak), one far below it was given back."""
    tasks: int
    temp_files: int


@dataclass
class SoakResult:
    jobs: int
    accepted: int
    refused: int
    refusals: list[str]
    """A few of the private answers refused commands got, distinct."""
    unanswered: list[int]
    """Plan indexes of commands whose reply still said "thinking…" at the end."""
    delivered_once: int
    failures: dict[str, int]
    """Jobs that ended without a video, by state/failure as the bot stored them."""
    duplicates: dict[int, int]
    """Job → video messages, for jobs posted more than once."""
    unaccounted: dict[int, str]
    """Job → what is wrong: not settled, delivered without a message, ended unexplained."""
    submitted_twice: dict[str, int]
    requests: int
    faulted: int
    store_outage: float
    """Emulated seconds the store refused writes."""
    discord_outage: float
    middle: Vitals
    end: Vitals
    real_seconds: float
    errors_logged: int
    error_samples: list[str] = field(default_factory=list)

    @property
    def fault_share(self) -> float:
        return self.faulted / self.requests if self.requests else 0.0

    @property
    def every_job_accounted(self) -> bool:
        failed = sum(n for key, n in self.failures.items() if "refused" not in key)
        return (
            not self.unaccounted
            and not self.unanswered
            and self.delivered_once + failed == self.accepted
        )

    @property
    def flat(self) -> bool:
        """Tasks and temp files no higher at the end than mid-run, RSS within 10 % + 5 MB."""
        return (
            self.end.tasks <= self.middle.tasks
            and self.end.temp_files <= self.middle.temp_files
            and self.end.rss_bytes <= self.middle.rss_bytes * 1.1 + 5 * MIB
        )


async def run_soak(config: SoakConfig, workdir: Path) -> SoakResult:
    """One soak in a fresh world and bot process; `workdir` keeps its log and database."""
    model = LoadModel(config.seed)
    plans = model.plans(config.jobs, members=config.members, channels=config.channels)
    world = await open_world(
        speed=config.speed,
        channels=config.channels,
        members=config.members,
        generation_time=model.generation_time,
        queue_delay=model.queue_delay,
    )
    paths = _Paths(workdir)
    try:
        bot = await BotProcess.start(
            world.fake,
            _environment(world, config, paths),
            workdir=workdir,
            speed=config.speed,
            guild_ready_timeout=0.2,
            module="bench.soak_bot",
        )
        try:
            return await _soak(world, bot, config, plans, paths)
        finally:
            await bot.stop()
            paths.outage_flag.unlink(missing_ok=True)
    finally:
        await world.close()


@dataclass(frozen=True)
class _Paths:
    workdir: Path

    @property
    def database(self) -> Path:
        return self.workdir / "data" / "bot.sqlite3"

    @property
    def temp(self) -> Path:
        return self.workdir / "tmp"

    @property
    def outage_flag(self) -> Path:
        return self.workdir / "store-outage"

    @property
    def stats(self) -> Path:
        return self.workdir / "stats.json"


def _environment(world: BenchWorld, config: SoakConfig, paths: _Paths) -> dict[str, str]:
    paths.temp.mkdir(parents=True, exist_ok=True)
    return world.settings(
        paths.database,
        **config.limits(),
        TMPDIR=str(paths.temp),
        **{soak_bot.OUTAGE_FLAG: str(paths.outage_flag), soak_bot.STATS_FILE: str(paths.stats)},
    )


async def _soak(
    world: BenchWorld, bot: BotProcess, config: SoakConfig, plans: list[JobPlan], paths: _Paths
) -> SoakResult:
    await bot.wait_on_ready()
    started = time.monotonic()
    faults = asyncio.create_task(_inject_faults(world, config), name="soak-faults")
    outages = asyncio.create_task(_outages(world, config, paths), name="soak-outages")
    try:
        interactions, middle = await _fire(world, bot, config, plans, paths)
        store_outage, discord_outage = await outages
        numbers, refusals, unanswered = await _settle(world, interactions, paths, config.within)
    finally:
        faults.cancel()
        outages.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await faults
        with contextlib.suppress(asyncio.CancelledError):
            await outages
        paths.outage_flag.unlink(missing_ok=True)
        world.fake.set_outage(False)
    await asyncio.sleep(2.0)
    end = _vitals(bot, paths)
    real_seconds = time.monotonic() - started
    problems = logged_problems(bot.log_path)
    return SoakResult(
        jobs=len(plans),
        accepted=len(numbers),
        refused=len(interactions) - len(numbers) - len(unanswered),
        refusals=refusals,
        unanswered=unanswered,
        **_account(world, numbers, paths.database),
        submitted_twice=_submitted_twice(world),
        requests=sum(1 for record in _api_requests(world)),
        faulted=sum(1 for record in _api_requests(world) if record.fault),
        store_outage=store_outage,
        discord_outage=discord_outage,
        middle=middle,
        end=end,
        real_seconds=real_seconds,
        errors_logged=len(problems),
        error_samples=_distinct(problems, 5),
    )


async def _fire(
    world: BenchWorld, bot: BotProcess, config: SoakConfig, plans: list[JobPlan], paths: _Paths
) -> tuple[dict[int, FakeInteraction], Vitals]:
    """Every command, evenly over the window; the vitals when half of them are out."""
    interactions: dict[int, FakeInteraction] = {}
    middle: Vitals | None = None
    step = config.command_window / max(len(plans), 1) / config.speed
    start = time.monotonic()
    for plan in plans:
        delay = start + plan.index * step - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        interactions[plan.index] = await world.generate(plan)
        if middle is None and plan.index + 1 >= len(plans) // 2:
            middle = _vitals(bot, paths)
    assert middle is not None
    return interactions, middle


async def _inject_faults(world: BenchWorld, config: SoakConfig) -> None:
    """Keep about `fault_rate` of RunComfy's requests faulted: for each endpoint, queue one
    fault per 1/rate requests it received since the last top-up."""
    rng = random.Random(f"{config.seed}:faults")
    emulator = world.emulator
    seen = {endpoint: emulator.count(endpoint) for endpoint in API_ENDPOINTS}
    owed = dict.fromkeys(API_ENDPOINTS, 0.0)
    while True:
        await asyncio.sleep(FAULT_TICK_SECONDS)
        for endpoint in API_ENDPOINTS:
            count = emulator.count(endpoint)
            owed[endpoint] += (count - seen[endpoint]) * config.fault_rate
            seen[endpoint] = count
            while owed[endpoint] >= 1.0:
                owed[endpoint] -= 1.0
                emulator.add_fault(endpoint, _a_fault(rng, config.speed), times=1)


def _a_fault(rng: random.Random, speed: float) -> Fault:
    """429s, 5xx RunComfy says to retry, and slow answers (2 emulated seconds) — none of
    which leaves a submit's outcome unknown."""
    kind = rng.choice(("rate_limit", "fail-500", "fail-503", "slow"))
    if kind == "rate_limit":
        return Fault("rate_limit", http_status=429, retry_after="2")
    if kind == "slow":
        return Fault("slow", seconds=2.0 / speed)
    status = 500 if kind == "fail-500" else 503
    return Fault("fail", http_status=status, error_code=500001, message="Internal server error")


async def _outages(world: BenchWorld, config: SoakConfig, paths: _Paths) -> tuple[float, float]:
    """The SQLite outage and then the Discord outage, at their moments in the window;
    returns how long each lasted in emulated seconds."""
    clock = world.clock
    began = clock.now()
    await clock.sleep(config.command_window * config.store_outage_at)
    paths.outage_flag.touch()
    store_began = clock.now()
    await clock.sleep(config.store_outage_seconds)
    paths.outage_flag.unlink(missing_ok=True)
    store = clock.now() - store_began
    discord_at = began + config.command_window * config.discord_outage_at
    await clock.sleep(max(0.0, discord_at - clock.now()))
    world.fake.set_outage(True)
    discord_began = clock.now()
    await clock.sleep(config.discord_outage_seconds)
    world.fake.set_outage(False)
    return store, clock.now() - discord_began


async def _settle(
    world: BenchWorld, interactions: dict[int, FakeInteraction], paths: _Paths, within: float
) -> tuple[dict[int, int], list[str], list[int]]:
    """Wait until every accepted job is settled in the store and every command was
    answered (or, once the jobs are settled, `ANSWER_GRACE` more real seconds passed);
    plan index → job id, a few distinct refusals, and the commands never answered."""
    deadline = time.monotonic() + within
    numbers: dict[int, int] = {}
    refusals: list[str] = []
    unanswered: list[int] = []
    settled_at: float | None = None
    while time.monotonic() < deadline:
        numbers, refusals, unanswered = _answers(interactions)
        if _open_jobs(paths.database, numbers.values()):
            settled_at = None
        else:
            settled_at = settled_at or time.monotonic()
            if not unanswered or time.monotonic() - settled_at > ANSWER_GRACE:
                break
        await asyncio.sleep(1.0)
    return numbers, refusals, unanswered


def _answers(
    interactions: dict[int, FakeInteraction],
) -> tuple[dict[int, int], list[str], list[int]]:
    numbers: dict[int, int] = {}
    refusals: list[str] = []
    unanswered: list[int] = []
    for index, interaction in interactions.items():
        if (number := job_number(interaction)) is not None:
            numbers[index] = number
            continue
        reply = interaction.original
        followups = [m.content or "" for m in interaction.followups if m is not reply]
        if not followups and (reply is None or reply.loading):
            unanswered.append(index)
            continue
        refusals.append((followups[-1] if followups else reply.content if reply else "")[:160])
    return numbers, _distinct(refusals, 5), unanswered


def _open_jobs(database: Path, job_ids: Iterable[int]) -> set[int]:
    """The jobs not yet settled, read from the bot's SQLite (WAL lets us read alongside)."""
    wanted = set(job_ids)
    if not wanted:
        return set()
    rows = _rows(database)
    return {job_id for job_id in wanted if rows.get(job_id, ("",))[0] not in SETTLED_STATES}


def _rows(database: Path) -> dict[int, tuple[str, str | None, str | None]]:
    """Job id → (state, failure, notice) from the bot's database."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5.0)
        ) as conn:
            found = conn.execute("SELECT id, state, error, notice FROM jobs").fetchall()
    except sqlite3.Error:
        return {}
    return {row[0]: (row[1], row[2], row[3]) for row in found}


def _account(world: BenchWorld, numbers: dict[int, int], database: Path) -> dict[str, object]:
    """Each accepted job: delivered once, a stated failure, or what is wrong with it; and
    every other job in the store (a command that failed after its job was stored)."""
    videos = Counter(
        int(match[1])
        for channel in world.channels
        for message in world.fake.channel_messages(channel, include_deleted=True)
        if message.author.id == world.fake.bot_user.id
        and (match := DELIVERY.search(message.content or "")) is not None
    )
    rows = _rows(database)
    delivered = 0
    failures: Counter[str] = Counter()
    unaccounted: dict[int, str] = {}
    for job_id in numbers.values():
        state, failure, _notice = rows.get(job_id, ("missing", None, None))
        posted = videos.get(job_id, 0)
        if state == "delivered" and posted == 1:
            delivered += 1
        elif state == "delivered" or state not in SETTLED_STATES:
            unaccounted[job_id] = f"{state} with {posted} video messages"
        elif posted:
            unaccounted[job_id] = f"{state} ({failure}) yet {posted} video messages"
        elif failure is None and state != "cancelled":
            unaccounted[job_id] = f"{state} without a stated failure"
        else:
            failures[f"{state}/{failure}"] += 1
    seen = set(numbers.values())
    for job_id, (state, failure, _notice) in rows.items():
        if job_id in seen:
            continue
        if state in SETTLED_STATES and state != "delivered":
            failures[f"{state}/{failure} (its command was refused)"] += 1
        else:
            unaccounted[job_id] = f"{state}, stored though its command was answered as refused"
    return {
        "delivered_once": delivered,
        "failures": dict(failures),
        "duplicates": {job_id: n for job_id, n in videos.items() if n > 1},
        "unaccounted": unaccounted,
    }


def _api_requests(world: BenchWorld) -> Iterator[RequestRecord]:
    """RunComfy's API requests, without the video downloads (never faulted here)."""
    return (record for record in world.emulator.requests if record.endpoint in API_ENDPOINTS)


def logged_problems(log_path: Path) -> list[str]:
    """ERROR and CRITICAL lines of the bot's log, with or without discord.py's colours
    (it colours a log file too when it thinks it runs in Docker)."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return []
    plain = (ANSI.sub("", line) for line in text.splitlines())
    return [line for line in plain if LEVEL.search(line)]


def _submitted_twice(world: BenchWorld) -> dict[str, int]:
    prompts = Counter(str(job.payload.get("prompt")) for job in world.emulator.jobs.values())
    return {prompt: n for prompt, n in prompts.items() if n > 1}


def _vitals(bot: BotProcess, paths: _Paths) -> Vitals:
    try:
        tasks = int(json.loads(paths.stats.read_text())["tasks"])
    except (OSError, ValueError, KeyError):
        tasks = -1
    temp_files = sum(1 for item in paths.temp.rglob("*") if item.is_file() and item.name != ".lock")
    memory = bot.memory()
    return Vitals(
        rss_bytes=memory.rss_bytes,
        peak_rss_bytes=memory.peak_bytes,
        tasks=tasks,
        temp_files=temp_files,
    )


def _distinct(lines: Sequence[str], limit: int) -> list[str]:
    return list(dict.fromkeys(lines))[:limit]


def full_config(speed: float, seed: int) -> SoakConfig:
    return SoakConfig(
        jobs=2000, members=200, channels=50, speed=speed, command_window=1800.0, seed=seed
    )


def smoke_config(seed: int) -> SoakConfig:
    return SoakConfig(
        jobs=40,
        members=8,
        channels=4,
        speed=60.0,
        command_window=300.0,
        store_outage_seconds=60.0,
        within=180.0,
        seed=seed,
    )


def report(result: SoakResult, config: SoakConfig) -> str:
    mb = MIB
    failed = sum(result.failures.values())
    lines = [
        f"Soak: {result.jobs:,} jobs over {config.command_window:.0f} emulated s at "
        f"{config.speed:g}×, {result.real_seconds:.0f} s real",
        f"  accepted {result.accepted:,} · refused at the command {result.refused:,}"
        f" · never answered {len(result.unanswered)} {result.unanswered[:5] or ''}",
        f"  delivered exactly once {result.delivered_once:,} · stated failures {failed:,} "
        f"{result.failures or ''}",
        f"  every job accounted for: {'yes' if result.every_job_accounted else 'NO'}"
        f" · unaccounted {len(result.unaccounted)} {_some(result.unaccounted)}",
        f"  posted twice {len(result.duplicates)} {_some(result.duplicates)}"
        f" · submitted twice {len(result.submitted_twice)} {_some(result.submitted_twice)}",
        f"  RunComfy faults {result.faulted:,} of {result.requests:,} requests "
        f"({result.fault_share:.1%})",
        f"  SQLite write outage {result.store_outage:.0f} emulated s · Discord outage "
        f"{result.discord_outage:.0f} emulated s ({result.discord_outage / 60:.1f} min)",
        f"  middle → end: RSS {result.middle.rss_bytes / mb:.1f} → {result.end.rss_bytes / mb:.1f}"
        f" MB (peak {result.end.peak_rss_bytes / mb:.1f} MB) · tasks {result.middle.tasks} →"
        f" {result.end.tasks} · temp files "
        f"{result.middle.temp_files} → {result.end.temp_files} · flat: "
        f"{'yes' if result.flat else 'NO'}",
        f"  ERROR lines in the bot's log {result.errors_logged}",
        *(f"    {line[:200]}" for line in result.error_samples),
    ]
    if result.refusals:
        lines.append("  refusals, e.g.:")
        lines += [f"    {text}" for text in result.refusals]
    return "\n".join(lines)


def _some(items: Mapping[Any, object], limit: int = 3) -> str:
    if not items:
        return ""
    return "(" + ", ".join(f"{k}: {v}" for k, v in list(items.items())[:limit]) + ")"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="40 jobs instead of 2,000")
    parser.add_argument("--jobs", type=int, help="how many jobs")
    parser.add_argument("--speed", type=float, default=30.0, help="clock speed (default 30)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--json", type=Path, help="write the raw result here")
    parser.add_argument("--keep", action="store_true", help="keep the bot's log and database")
    args = parser.parse_args(argv)
    config = smoke_config(args.seed) if args.smoke else full_config(args.speed, args.seed)
    if args.jobs:
        config = SoakConfig(**{**asdict(config), "jobs": args.jobs})
    workdir = Path(tempfile.mkdtemp(prefix="kling-soak-"))
    try:
        result = asyncio.run(run_soak(config, workdir))
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(report(result, config))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2, default=str))
    return 0 if result.every_job_accounted and not result.duplicates else 1


if __name__ == "__main__":
    sys.exit(main())
