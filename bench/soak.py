"""A bounded soak: many jobs through the real bot process while things go wrong.

`python -m bench.soak` (2,000 + 2,000 jobs) or `--smoke` (40 + 40). On the scaled clock,
members send their `/video generate` commands over a window while the benchmark injects:

- RunComfy faults on about 5 % of requests (429 with Retry-After, 500/503, slow answers),
  queued on the emulator as requests arrive;
- one SQLite write outage in the middle (`bench/soak_bot.py` makes the bot's
  `JobStore` writes raise "database is locked" while a flag file exists);
- one Discord outage longer than 15 emulated minutes (`set_outage` on the fake).

Once every job has settled, with nothing under way, the store refuses one write (a
command's, which is refused) and takes writes again: the next command must be taken at
once. The bot idles a while; then a second batch as large as the
first (`--batches` for more) runs through with the RunComfy faults but no outage, and
the bot idles again. Every job of every batch is accounted for: delivered exactly once
(video messages counted per job at the fake), or ended with a failure the bot stated;
no prompt submitted twice (the emulator's jobs per prompt). The bot's memory is probed
before the first command, mid-run, once the first batch's backlog has drained, and after
each batch and its idle: RSS, and Python's own numbers after a full collection (live
objects, allocated blocks, the C heap in use and SQLite's share, the length of every
container the bot's parts hold), with its asyncio tasks and temporary files. Memory is
bounded when the same work again leaves Python's numbers where the first batch left
them, the bot's per-job records are empty, and tasks and temporary files are back at
baseline. RSS is reported beside them: it shows what the allocators keep, not what the
bot holds.

Last, a PostgreSQL episode (`bench/soak_restart.py`, `--restart-jobs`): the bot process
on a throwaway PostgreSQL server that is restarted while jobs are under way; nothing
lost, nothing sent twice, and the commands sent once it is back are taken.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict

from bench import soak_bot, soak_restart
from bench.soak_restart import RestartConfig, RestartResult, run_restart
from bench.world import BenchWorld, open_world
from bot.clock import ScaledClock
from testkit.discord import FakeInteraction
from testkit.evidence import SETTLED_STATES, job_number, job_rows, logged_problems, posted_videos
from testkit.load import DEFAULT_SEED, JobPlan, LoadModel
from testkit.process import BotProcess
from testkit.runcomfy import API_ENDPOINTS, Fault, RequestRecord

MIB = 1024 * 1024
SAMPLE_EVERY = 2.0
"""Real seconds between two points of the timeline."""
FAULT_TICK_SECONDS = 0.02
"""Real seconds between fault top-ups: faults are queued for requests about to arrive."""
ANSWER_GRACE = 20.0
"""Real seconds to keep waiting for unanswered commands once every job is settled."""
IDLE_COMMANDS = 2
"""Sent once the first batch has settled: one while the store refuses writes, one the
moment it takes them again."""


@dataclass(frozen=True, slots=True)
class SoakConfig:
    jobs: int
    """Jobs in the first batch, the one with the outages."""
    members: int
    channels: int
    speed: float
    command_window: float
    """Emulated seconds over which each batch's commands arrive."""
    fault_rate: float = 0.05
    store_outage_at: float = 0.3
    """When the SQLite outage starts, as a fraction of the command window."""
    store_outage_seconds: float = 90.0
    discord_outage_at: float = 0.5
    discord_outage_seconds: float = 16 * 60.0
    """Emulated seconds; Discord's outage has to outlast 15 minutes."""
    second_jobs: int | None = None
    """Jobs in each later batch (RunComfy faults, no outage); None: as many as the first."""
    later_batches: int = 1
    """Batches after the first, each followed by an idle and a probe."""
    idle_seconds: float = 20 * 60.0
    """Emulated seconds the bot idles after each batch has settled, before it is probed;
    at 30× that is 40 real seconds, past aiohttp's closing of idle keep-alive connections
    (15 real seconds idle, checked every 15)."""
    within: float = 900.0
    """Real seconds to wait for every job of a batch to settle."""
    video_cache_mb: int = 1
    video_bytes: int = 40 * 1024
    """The emulator's videos are padded to this size, so the bot's cache of delivered
    videos (`video_cache_mb`) is full after some 25 of them, as a bot that has run a
    while keeps its cache full (2 GB by default, some 200 real videos): the soak then
    sees the cache at its cap rather than still filling."""
    restart_jobs: int = 200
    """Jobs of the PostgreSQL episode (`bench.soak_restart`), its server restarted midway;
    0: none."""
    restart_window: float = 600.0
    """Emulated seconds over which the episode's commands arrive."""
    trace_frames: int = 0
    """Run the bot under tracemalloc with this many frames (0: not at all; slow)."""
    seed: int = DEFAULT_SEED

    @property
    def second(self) -> int:
        return self.jobs if self.second_jobs is None else self.second_jobs

    def limits(self) -> dict[str, str]:
        """Roomy limits, so jobs wait in line for slots rather than being refused."""
        per_member = -(-max(self.jobs, self.second) // self.members)
        return {
            "MAX_ACTIVE_JOBS_PER_USER": "5",
            "MAX_WAITING_JOBS_PER_USER": str(min(per_member + 5, 100)),
            "MAX_ACTIVE_JOBS_PER_SERVER": "200",
            "MAX_ACTIVE_JOBS_TOTAL": "200",
            "RUNCOMFY_MAX_REQUESTS_PER_SECOND": "200",
            "RUNCOMFY_MAX_CONCURRENT_REQUESTS": "50",
            "JOB_DEADLINE_MINUTES": "120",
            "VIDEO_CACHE_MB": str(self.video_cache_mb),
        }


@dataclass(frozen=True, slots=True)
class Vitals:
    """The bot process at one moment; the Python numbers after a full collection."""

    rss_bytes: int
    peak_rss_bytes: int
    """The most resident so far: an end RSS near it is memory kept after the peak (the
    allocator's high-water mark or a leak), one far below it was given back."""
    tasks: int
    temp_files: int
    objects: int
    """Objects the garbage collector tracks (containers, instances, functions…)."""
    blocks: int
    """Python's small-object allocator: blocks in use (every object up to 512 bytes)."""
    heap_bytes: int | None
    """The C heap in use (glibc's mallinfo2): larger allocations, SQLite, OpenSSL."""
    sqlite_bytes: int | None
    """SQLite's share of the heap (its page cache grows with the database, to a cap)."""
    traced_bytes: int | None
    """tracemalloc's current total, when the bot runs under it."""
    structures: dict[str, int]
    """Length of each container the bot's own parts hold, by attribute path."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One point of the timeline, sampled every few real seconds."""

    clock: float
    """Emulated seconds since the bot was ready."""
    phase: str
    rss_bytes: int
    blocks: int
    tasks: int


@dataclass(frozen=True, slots=True)
class Growth:
    """How much more the bot holds at one probe than at an earlier one."""

    objects: int
    blocks: int
    heap_bytes: int
    sqlite_bytes: int
    structures: dict[str, int]
    """Containers that grew, by how many items."""

    @classmethod
    def between(cls, before: Vitals, after: Vitals) -> Growth:
        grown = {
            name: length - before.structures.get(name, 0)
            for name, length in after.structures.items()
            if length > before.structures.get(name, 0)
        }
        return cls(
            objects=after.objects - before.objects,
            blocks=after.blocks - before.blocks,
            heap_bytes=(after.heap_bytes or 0) - (before.heap_bytes or 0),
            sqlite_bytes=(after.sqlite_bytes or 0) - (before.sqlite_bytes or 0),
            structures=grown,
        )


PER_JOB_RECORDS = (
    "tracker._context.book._jobs",
    "tracker._context.book._locks",
    "tracker._context.scheduler._due",
    "tracker._context.scheduler._reminders",
    "tracker._context.scheduler._busy",
    "tracker._context.book.line.waiting",
    "tracker._context.book.line.active",
    "tracker._context.book.line.held_until",
    "tracker._watch._pending_streak",
    "tracker._line._places.order",
    "tracker._line._places._keys",
    "tracker._line._places._key_of",
    "tracker._line._places._member_of",
    "tracker._line._places._by_user",
    "tracker._line._places._server_keys",
    "tracker._line._places._member_keys",
    "tracker._line._places._shown",
    "tracker._line._holders",
    "tracker._line._reserved",
    "tracker._line._held",
    "board._latest",
    "board._shown",
    "board._arrived",
    "board._gone",
    "board._replies",
    "board._webhook_tasks",
    "board._wakes",
    "board._sent_at",
    "board._notes",
    "outbox._lanes",
)
"""The bot's records of jobs under way (and of channels with posts under way): all
empty once every job is settled and the bot has idled."""
CONTAINER_SLACK = 5
"""Items a container of the bot's parts may gain over the second batch, the same work
again: a video length not seen before, a member served for the first time. A record
kept per job, or per job on a path a few jobs take, grows by tens or thousands."""
OBJECTS_PER_JOB = 0.25
"""What the later batches may add per job to the objects the garbage collector tracks
(`BLOCKS_PER_JOB` to the allocated blocks), for what the container check cannot see
(discord.py, aiohttp, the interpreter): anything kept per job is at least one object or
one block (an int key), so at 2,000 jobs one of either per job is past the allowance."""
BLOCKS_PER_JOB = 0.4
STEADY_SLACK = 1_000
"""Objects (or blocks) either probe may differ by with nothing kept: a gateway message
being read, pooled keep-alive connections, a log record."""


@dataclass
class SoakResult:
    jobs: int
    """Both batches."""
    second_batch: int
    """Jobs in each later batch."""
    later_batches: int
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
    restart: RestartResult | None
    """The PostgreSQL episode (None: not run, or no PostgreSQL server binaries)."""
    idle_refusal: str | None
    """What the command sent while the idle bot's store refused writes was told (None:
    it was taken, though nothing could be written)."""
    taken_after_idle_refusal: bool
    """The next command, sent once the store took writes again, was taken."""
    discord_outage: float
    baseline: Vitals
    """Ready, before the first command."""
    middle: Vitals
    """Half of the first batch's commands out (the Discord outage begins)."""
    drained: Vitals
    """Every job of the first batch settled: the outages' backlog is gone."""
    settled: Vitals
    """After the first batch and its idle."""
    later: list[Vitals]
    """After each later batch but the last, and its idle."""
    end: Vitals
    """After the last batch (the same work again, without outages) and its idle."""
    real_seconds: float
    errors_logged: int
    error_samples: list[str] = field(default_factory=list)
    timeline: list[Sample] = field(default_factory=list)

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
    def refused_while_idle(self) -> bool:
        """The command sent while the idle store refused writes was refused, and the next,
        sent once it took writes again, was taken."""
        return self.idle_refusal is not None and self.taken_after_idle_refusal

    @property
    def first_jobs(self) -> int:
        return self.jobs - self.later_jobs

    @property
    def later_jobs(self) -> int:
        return self.second_batch * self.later_batches

    @property
    def after_batches(self) -> list[Vitals]:
        """The probes after each batch and its idle, the first batch's first."""
        return [self.settled, *self.later, self.end]

    @property
    def first_growth(self) -> Growth:
        """What the first batch left behind (warm caches, a learned model… or a leak)."""
        return Growth.between(self.baseline, self.settled)

    @property
    def batch_growths(self) -> list[Growth]:
        """What each later batch, the same work again, left behind."""
        after = self.after_batches
        return [Growth.between(before, then) for before, then in itertools.pairwise(after)]

    @property
    def later_growth(self) -> Growth:
        """What the later batches left behind together: near nothing when memory is
        bounded."""
        return Growth.between(self.settled, self.end)

    @property
    def steady_allowance(self) -> tuple[float, float]:
        """Objects and blocks the later batches may leave behind (see `steady`)."""
        return (
            OBJECTS_PER_JOB * self.later_jobs + STEADY_SLACK,
            BLOCKS_PER_JOB * self.later_jobs + STEADY_SLACK,
        )

    @property
    def containers_grown(self) -> dict[str, int]:
        """Containers of the bot's parts that the later batches grew by more than
        `CONTAINER_SLACK` items."""
        grown = self.later_growth.structures
        return {name: n for name, n in grown.items() if n > CONTAINER_SLACK}

    @property
    def steady(self) -> bool:
        """The same work again leaves the bot where the first batch left it: no container
        of its parts grew (beyond `CONTAINER_SLACK`), and Python's objects and blocks
        within `steady_allowance`."""
        growth = self.later_growth
        objects, blocks = self.steady_allowance
        return not self.containers_grown and growth.objects <= objects and growth.blocks <= blocks

    @property
    def back_to_baseline(self) -> bool:
        """Tasks and temporary files no more after each batch than before the first."""
        return all(
            vitals.tasks <= self.baseline.tasks and vitals.temp_files <= self.baseline.temp_files
            for vitals in self.after_batches
        )

    @property
    def kept_per_job(self) -> dict[str, int]:
        """Per-job records not empty after a batch and its idle, by batch and name (-1: the
        probe did not find the record, so the harness no longer sees the bot's parts)."""
        kept: dict[str, int] = {}
        for number, vitals in enumerate(self.after_batches, start=1):
            for name in PER_JOB_RECORDS:
                if (length := vitals.structures.get(name, -1)) != 0:
                    kept[f"batch {number}: {name}"] = length
        return kept

    @property
    def peak_blocks(self) -> int:
        return max((sample.blocks for sample in self.timeline), default=self.end.blocks)


async def run_soak(config: SoakConfig, workdir: Path) -> SoakResult:
    """One soak in a fresh world and bot process; `workdir` keeps its log and database."""
    model = LoadModel(config.seed)
    plans = model.plans(
        config.jobs + IDLE_COMMANDS + config.second * config.later_batches,
        members=config.members,
        channels=config.channels,
    )
    world = await open_world(
        speed=config.speed,
        channels=config.channels,
        members=config.members,
        generation_time=model.generation_time,
        queue_delay=model.queue_delay,
    )
    world.emulator.video_size = config.video_bytes
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
            result = await _soak(world, bot, config, plans, paths)
        finally:
            await bot.stop()
            paths.outage_flag.unlink(missing_ok=True)
    finally:
        await world.close()
    if config.restart_jobs:
        result.restart = await run_restart(restart_config(config), workdir / "postgres")
    return result


def restart_config(config: SoakConfig) -> RestartConfig:
    return RestartConfig(
        jobs=config.restart_jobs,
        members=config.members,
        channels=config.channels,
        speed=config.speed,
        command_window=config.restart_window,
        within=config.within,
        seed=config.seed,
    )


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
    extra = {soak_bot.OUTAGE_FLAG: str(paths.outage_flag), soak_bot.STATS_FILE: str(paths.stats)}
    if config.trace_frames:
        extra[soak_bot.TRACEMALLOC] = str(config.trace_frames)
    return world.settings(paths.database, **config.limits(), TMPDIR=str(paths.temp), **extra)


async def _soak(
    world: BenchWorld, bot: BotProcess, config: SoakConfig, plans: list[JobPlan], paths: _Paths
) -> SoakResult:
    await bot.wait_on_ready()
    started = time.monotonic()
    rows = sqlite_rows(paths.database)
    probes = _Prober(bot, paths, world.clock)
    baseline = await probes.probe("baseline")
    first = plans[: config.jobs]
    idle = plans[config.jobs : config.jobs + IDLE_COMMANDS]
    second = plans[config.jobs + IDLE_COMMANDS :]
    sampler = asyncio.create_task(probes.sample(), name="soak-sampler")
    faults = asyncio.create_task(_inject_faults(world, config), name="soak-faults")
    outages = asyncio.create_task(_outages(world, config, paths), name="soak-outages")
    try:
        probes.phase = "first batch"
        interactions, half = await _fire(world, config, first, probes)
        middle = half or await probes.probe("middle")
        store_outage, discord_outage = await outages
        await _settle(interactions, rows, config.within)
        drained = await probes.probe("drained")
        probes.phase = "idle"
        refused_idle, taken_idle = await _refused_while_idle(world, paths, idle)
        interactions.update({idle[0].index: refused_idle, idle[1].index: taken_idle})
        await _settle(interactions, rows, config.within)
        await world.clock.sleep(config.idle_seconds)
        settled = await probes.probe("settled")
        later: list[Vitals] = []
        for n in range(config.later_batches):
            probes.phase = f"batch {n + 2}"
            batch = second[n * config.second : (n + 1) * config.second]
            more, _ = await _fire(world, config, batch)
            interactions.update(more)
            numbers, refusals, unanswered = await _settle(interactions, rows, config.within)
            probes.phase = "idle"
            await world.clock.sleep(config.idle_seconds)
            later.append(await probes.probe(f"batch-{n + 2}"))
    finally:
        for task in (sampler, faults, outages):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        paths.outage_flag.unlink(missing_ok=True)
        world.fake.set_outage(False)
    real_seconds = time.monotonic() - started
    problems = logged_problems(bot.log_path)
    return SoakResult(
        jobs=len(plans),
        second_batch=config.second,
        later_batches=config.later_batches,
        accepted=len(numbers),
        refused=len(interactions) - len(numbers) - len(unanswered),
        refusals=refusals,
        unanswered=unanswered,
        **_account(world, numbers, job_rows(paths.database)),
        submitted_twice=_submitted_twice(world),
        requests=sum(1 for record in _api_requests(world)),
        faulted=sum(1 for record in _api_requests(world) if record.fault),
        store_outage=store_outage,
        restart=None,
        idle_refusal=next(iter(_answers({0: refused_idle})[1]), None),
        taken_after_idle_refusal=bool(_answers({0: taken_idle})[0]),
        discord_outage=discord_outage,
        baseline=baseline,
        middle=middle,
        drained=drained,
        settled=settled,
        later=later[:-1],
        end=later[-1],
        real_seconds=real_seconds,
        errors_logged=len(problems),
        error_samples=_distinct(problems, 5),
        timeline=probes.timeline,
    )


async def _refused_while_idle(
    world: BenchWorld, paths: _Paths, plans: list[JobPlan]
) -> tuple[FakeInteraction, FakeInteraction]:
    """With nothing under way, the store refuses one write (a command's), then takes writes
    again: the next command must be taken at once, not refused until a restart."""
    paths.outage_flag.touch()
    try:
        refused = await world.generate(plans[0])
        await _answered(refused)
    finally:
        paths.outage_flag.unlink(missing_ok=True)
    taken = await world.generate(plans[1])
    await _answered(taken)
    return refused, taken


async def _answered(interaction: FakeInteraction, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while _answers({0: interaction})[2]:
        if time.monotonic() > deadline:
            raise TimeoutError("a command during the idle was never answered")
        await asyncio.sleep(0.05)


async def _fire(
    world: BenchWorld, config: SoakConfig, plans: list[JobPlan], probes: _Prober | None = None
) -> tuple[dict[int, FakeInteraction], Vitals | None]:
    """Every command, evenly over the window; with `probes`, the vitals once half of them
    are out."""
    interactions: dict[int, FakeInteraction] = {}
    middle: Vitals | None = None
    step = config.command_window / max(len(plans), 1) / config.speed
    start = time.monotonic()
    for n, plan in enumerate(plans):
        delay = start + n * step - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        interactions[plan.index] = await world.generate(plan)
        if probes is not None and middle is None and n + 1 >= len(plans) // 2:
            middle = await probes.probe("middle")
    return interactions, middle


class _Prober:
    """Asks the bot process for its numbers (a probe runs a full collection there) and
    samples the cheap ones every `SAMPLE_EVERY` real seconds for the timeline."""

    def __init__(self, bot: BotProcess, paths: _Paths, clock: ScaledClock) -> None:
        self.bot = bot
        self.paths = paths
        self.clock = clock
        self.began = clock.now()
        self.phase = "ready"
        self.timeline: list[Sample] = []

    async def probe(self, name: str, within: float = 60.0) -> Vitals:
        token = f"{name}-{time.monotonic_ns()}"
        request = self.paths.stats.with_name(self.paths.stats.name + soak_bot.PROBE_SUFFIX)
        request.write_text(token)
        deadline = time.monotonic() + within
        while True:
            probed = self._stats().get("last_probe", {})
            if probed.get("probe") == token:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not answer the {name} probe")
            await asyncio.sleep(0.1)
        memory = self.bot.memory()
        return Vitals(
            rss_bytes=memory.rss_bytes,
            peak_rss_bytes=memory.peak_bytes,
            tasks=int(probed["tasks"]),
            temp_files=_temp_files(self.paths),
            objects=int(probed["objects"]),
            blocks=int(probed["blocks"]),
            heap_bytes=probed.get("heap_bytes"),
            sqlite_bytes=probed.get("sqlite_bytes"),
            traced_bytes=probed.get("traced_bytes"),
            structures={str(k): int(v) for k, v in probed.get("structures", {}).items()},
        )

    async def sample(self) -> None:
        while True:
            stats = self._stats()
            if stats:
                self.timeline.append(
                    Sample(
                        clock=round(self.clock.now() - self.began, 1),
                        phase=self.phase,
                        rss_bytes=self.bot.memory().rss_bytes,
                        blocks=int(stats.get("blocks", 0)),
                        tasks=int(stats.get("tasks", 0)),
                    )
                )
            await asyncio.sleep(SAMPLE_EVERY)

    def _stats(self) -> dict[str, Any]:
        try:
            found = json.loads(self.paths.stats.read_text())
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}


def _temp_files(paths: _Paths) -> int:
    return sum(1 for item in paths.temp.rglob("*") if item.is_file() and item.name != ".lock")


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


Rows = dict[int, tuple[str, str | None, str | None]]
"""Job id → (state, failure, notice), as the bot's database holds them."""
ReadRows = Callable[[], Awaitable[Rows]]


def sqlite_rows(database: Path) -> ReadRows:
    async def read() -> Rows:
        return job_rows(database)

    return read


async def _settle(
    interactions: dict[int, FakeInteraction], rows: ReadRows, within: float
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
        if _open_jobs(await rows(), numbers.values()):
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


def _open_jobs(rows: Rows, job_ids: Iterable[int]) -> set[int]:
    """The jobs not yet settled."""
    return {job_id for job_id in job_ids if rows.get(job_id, ("",))[0] not in SETTLED_STATES}


class _Accounting(TypedDict):
    delivered_once: int
    failures: dict[str, int]
    duplicates: dict[int, int]
    unaccounted: dict[int, str]


def _account(world: BenchWorld, numbers: dict[int, int], rows: Rows) -> _Accounting:
    """Each accepted job: delivered once, a stated failure, or what is wrong with it; and
    every other job in the store (a command that failed after its job was stored)."""
    videos = posted_videos(world.fake, world.channels)
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


def _submitted_twice(world: BenchWorld) -> dict[str, int]:
    prompts = Counter(str(job.payload.get("prompt")) for job in world.emulator.jobs.values())
    return {prompt: n for prompt, n in prompts.items() if n > 1}


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
        idle_seconds=300.0,
        within=180.0,
        restart_jobs=16,
        restart_window=120.0,
        seed=seed,
    )


PROBE_NAMES = {
    "baseline": "ready, before any command",
    "middle": "half the first batch sent",
    "drained": "first batch settled",
    "settled": "… and idle",
}


def report(result: SoakResult, config: SoakConfig) -> str:
    failed = sum(result.failures.values())
    batches = " + ".join(
        f"{n:,}" for n in (result.first_jobs, *[result.second_batch] * result.later_batches)
    )
    probes = [(name, getattr(result, name)) for name in PROBE_NAMES]
    for number, vitals in enumerate([*result.later, result.end], start=2):
        probes.append((f"batch {number} settled and idle", vitals))
    lines = [
        f"Soak: {batches} jobs, each batch over {config.command_window:.0f} emulated s at "
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
        f"{result.discord_outage:.0f} emulated s ({result.discord_outage / 60:.1f} min), "
        "both in the first batch",
        *soak_restart.report(result.restart, restart_config(config)),
        f"  a write refused while idle: the command was "
        f"{'refused' if result.idle_refusal else 'NOT refused'}, the next one "
        f"{'taken' if result.taken_after_idle_refusal else 'NOT taken'} once writes worked",
        "  memory, after a full collection in the bot:",
        f"    {'':41} {'RSS MB':>7} {'objects':>9} {'blocks':>9} {'heap MB':>8} {'sqlite':>7} "
        f"{'traced MB':>9} {'tasks':>6} {'temp':>5}",
        *(_vitals_line(name, vitals) for name, vitals in probes),
        f"    peak RSS {result.end.peak_rss_bytes / MIB:.1f} MB · peak blocks "
        f"{result.peak_blocks:,} (sampled every {SAMPLE_EVERY:g} s, before collection)",
        f"  batch 1 left {_growth(result.first_growth, result.first_jobs)}",
        *(
            f"  batch {number} left {_growth(growth, result.second_batch)}"
            for number, growth in enumerate(result.batch_growths, start=2)
        ),
        f"  steady ({_later_batches(result)}: no container of the bot's parts "
        f"grew by more than {CONTAINER_SLACK}, objects ≤ {result.steady_allowance[0]:+,.0f}, "
        f"blocks ≤ {result.steady_allowance[1]:+,.0f}): {'yes' if result.steady else 'NO'} · "
        f"tasks and temp files back to baseline: {'yes' if result.back_to_baseline else 'NO'}",
        f"  the bot's per-job records after each batch and its idle: "
        f"{_some(result.kept_per_job, 8) or 'all empty'}",
        f"  largest containers mid-run: {_largest(result.middle.structures)}",
        f"  ERROR lines in the bot's log {result.errors_logged}",
        *(f"    {line[:200]}" for line in result.error_samples),
    ]
    if result.refusals:
        lines.append("  refusals, e.g.:")
        lines += [f"    {text}" for text in result.refusals]
    return "\n".join(lines)


def _later_batches(result: SoakResult) -> str:
    last = result.later_batches + 1
    return "batch 2" if last == 2 else f"batches 2–{last}"


def _vitals_line(label: str, vitals: Vitals) -> str:
    heap = "-" if vitals.heap_bytes is None else f"{vitals.heap_bytes / MIB:.1f}"
    sqlite = "-" if vitals.sqlite_bytes is None else f"{vitals.sqlite_bytes / MIB:.1f}"
    traced = "-" if vitals.traced_bytes is None else f"{vitals.traced_bytes / MIB:.1f}"
    label = f"{label} ({PROBE_NAMES[label]})" if label in PROBE_NAMES else label
    return (
        f"    {label:41} {vitals.rss_bytes / MIB:7.1f} {vitals.objects:9,} {vitals.blocks:9,} "
        f"{heap:>8} {sqlite:>7} {traced:>9} {vitals.tasks:6} {vitals.temp_files:5}"
    )


def _growth(growth: Growth, jobs: int) -> str:
    per = max(jobs, 1)
    most: dict[str, int] = dict(sorted(growth.structures.items(), key=lambda kv: -kv[1]))
    grown = _some(most, 6)
    return (
        f"{growth.objects:+,} objects ({growth.objects / per:+.2f}/job), {growth.blocks:+,} "
        f"blocks ({growth.blocks / per:+.2f}/job), heap {growth.heap_bytes / MIB:+.1f} MB "
        f"(SQLite {growth.sqlite_bytes / MIB:+.1f}); "
        f"containers grown: {grown or 'none'}"
    )


def _largest(structures: Mapping[str, int], limit: int = 5) -> str:
    top = sorted(structures.items(), key=lambda kv: -kv[1])[:limit]
    return ", ".join(f"{name} {length}" for name, length in top) or "none"


def _some(items: Mapping[Any, object], limit: int = 3) -> str:
    if not items:
        return ""
    return "(" + ", ".join(f"{k}: {v}" for k, v in list(items.items())[:limit]) + ")"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="40 + 40 jobs, not 2,000 + 2,000")
    parser.add_argument("--jobs", type=int, help="jobs in the first batch (with the outages)")
    parser.add_argument("--second", type=int, help="jobs in each later batch (default: as many)")
    parser.add_argument("--batches", type=int, help="batches after the first (default 1)")
    parser.add_argument("--idle", type=float, help="emulated seconds of idle after each batch")
    parser.add_argument(
        "--restart-jobs", type=int, help="jobs of the PostgreSQL restart episode (0: none)"
    )
    parser.add_argument(
        "--trace",
        type=int,
        default=0,
        metavar="FRAMES",
        help="run the bot under tracemalloc (slow) and keep a snapshot per probe (with --keep)",
    )
    parser.add_argument("--speed", type=float, default=30.0, help="clock speed (default 30)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--json", type=Path, help="write the raw result here")
    parser.add_argument("--keep", action="store_true", help="keep the bot's log and database")
    args = parser.parse_args(argv)
    config = smoke_config(args.seed) if args.smoke else full_config(args.speed, args.seed)
    changes = {
        "jobs": args.jobs,
        "second_jobs": args.second,
        "later_batches": args.batches,
        "idle_seconds": args.idle,
        "restart_jobs": args.restart_jobs,
    }
    config = replace(
        config,
        trace_frames=args.trace,
        **{name: value for name, value in changes.items() if value is not None},
    )
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
    held = result.every_job_accounted and not result.duplicates and not result.submitted_twice
    held = held and result.refused_while_idle and (result.restart is None or result.restart.held)
    bounded = result.steady and result.back_to_baseline and not result.kept_per_job
    return 0 if held and bounded else 1


if __name__ == "__main__":
    sys.exit(main())
