"""The takeover scenario: several bot processes as one bot, and one of them killed.

The load (`testkit.load`) is spread over the cluster's servers, one per process
(`testkit.cluster`), so each process receives only its shard's commands. With `kill`, once
a share of the first process's videos is out and it holds nothing waiting or being sent
to RunComfy, it gets SIGKILL: no clean shutdown, its leases left behind; its liveness lock
(`bot.store.pg_liveness`) goes with its database sessions. (A process killed in the middle
of a paid submit leaves a job nobody can know the fate of: RunComfy has no way to look a
request up but its id. The bot then tells the member so, and this scenario, which counts
every job delivered, would fail by the kill's timing, not by the bot.) Then every job is
accounted for from the database and the fake's channels: delivered exactly once, none
sent to RunComfy twice, and how long the survivor took to hold every job the dead one held.

The benchmark `python -m bench.takeover` runs it at several shapes; the end-to-end test
`tests/e2e/test_takeover.py` at the issue's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from testkit.cluster import Cluster, ClusterShape
from testkit.discord import FakeInteraction
from testkit.evidence import DELIVERY, SETTLED_STATES, job_number, logged_problems, posted_videos
from testkit.load import DEFAULT_SEED, LoadModel
from testkit.runcomfy import API_ENDPOINTS
from testkit.stats import Summary
from testkit.waiting import eventually

NOT_SENT_YET = ("new", "waiting", "submitting")
"""States of a job not yet (or not surely) at RunComfy."""


@dataclass(frozen=True)
class TakeoverConfig:
    jobs: int = 200
    processes: int = 2
    """Bot processes, one shard (and one server) each."""
    database: str = "postgres"
    """`postgres` or `sqlite` (one process only)."""
    kill: bool = True
    """Stop the first process midway (needs two processes)."""
    stop_signal: signal.Signals = signal.SIGKILL
    """How: SIGKILL (no clean shutdown) or SIGTERM (a clean stop that hands its jobs back)."""
    kill_after: float = 0.3
    """Share of the first process's videos posted before it is killed."""
    lease_seconds: float = 15.0
    """JOB_LEASE_SECONDS (the default): a dead process is seen by its liveness lock, so
    the take-over does not wait for the lease."""
    speed: float = 40.0
    channels_per_server: int = 4
    members_per_server: int = 12
    seed: int = DEFAULT_SEED
    within: float = 240.0
    """Real seconds for everything to settle."""

    @property
    def shape(self) -> ClusterShape:
        return ClusterShape(
            processes=self.processes,
            speed=self.speed,
            lease_seconds=self.lease_seconds,
            channels_per_server=self.channels_per_server,
            members_per_server=self.members_per_server,
        )


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
    first_takeover_seconds: float | None = None
    """Real seconds from SIGKILL until another process held the first of them."""
    stopped_exit_code: int | None = None
    """The stopped process's exit code (-9 after SIGKILL)."""
    problems: list[str] = field(default_factory=list)
    """ERROR lines in the survivors' logs (and a cleanly stopped process's)."""

    @property
    def every_job_delivered_once(self) -> bool:
        return (
            self.delivered_once == self.jobs == self.answered
            and not self.duplicates
            and not self.unsettled
        )


async def run_takeover(config: TakeoverConfig, workdir: Path, dsn: str | None) -> TakeoverResult:
    """One run in fresh fakes; `dsn` is an empty PostgreSQL database (None for SQLite)."""
    if config.kill and config.processes < 2:
        raise ValueError("killing a process needs another to take over")
    model = LoadModel(config.seed)
    cluster = await Cluster.open(
        config.shape,
        workdir,
        dsn,
        generation_time=model.generation_time,
        queue_delay=model.queue_delay,
    )
    posted_at: dict[int, float] = {}

    def record(message: object) -> None:
        text = getattr(message, "text", None) or ""
        if (match := DELIVERY.search(text)) is not None:
            posted_at.setdefault(int(match[1]), cluster.clock.now())

    cluster.fake.on_message_created(record)
    try:
        await cluster.start_bots()
        return await _run(config, cluster, posted_at)
    finally:
        await cluster.close()


async def _run(
    config: TakeoverConfig, cluster: Cluster, posted_at: dict[int, float]
) -> TakeoverResult:
    started = time.monotonic()
    bots, servers, emulator = cluster.bots, cluster.servers, cluster.emulator
    cpu_before = sum(bot.cpu_seconds() for bot in bots)
    plans = LoadModel(config.seed).plans(config.jobs, members=1, channels=1)
    interactions: list[tuple[int, FakeInteraction]] = []
    for plan in plans:
        shard = plan.index % len(servers)
        server = servers[shard]
        interaction = await cluster.fake.invoke_slash(
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
    first_takeover: float | None = None
    stopped_exit: int | None = None
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

        async def nothing_being_sent() -> bool:
            return not await cluster.held_by(victim, states=NOT_SENT_YET)

        # A job killed while being sent is "may have been sent" by design (never sent
        # twice); the take-over is measured with every job of the victim at RunComfy.
        await _until_async(nothing_being_sent, within=config.within)
        cpu_dead = victim.cpu_seconds()
        killed_holding = await cluster.held_by(victim)
        if config.stop_signal is signal.SIGKILL:
            killed_at = await cluster.kill(victim)
        else:
            killed_at = time.monotonic()
            victim.signal(config.stop_signal)

        async def taken_over() -> bool:
            nonlocal first_takeover
            held = await cluster.held_by(victim)
            if first_takeover is None and held < killed_holding:
                first_takeover = time.monotonic() - killed_at
            return held == 0

        await _until_async(taken_over, within=config.within)
        takeover = time.monotonic() - killed_at
        stopped_exit = await victim.wait_exit(within=config.within)
    job_ids = [number for _, number in numbers]

    async def settled() -> bool:
        states = await cluster.job_states()
        return all(states.get(job_id) in SETTLED_STATES for job_id in job_ids)

    await _until_async(settled, within=config.within)
    await asyncio.sleep(0.5)
    survivors = bots[1:] if config.kill else bots
    logs = bots if config.stop_signal is not signal.SIGKILL else survivors
    cpu = sum(bot.cpu_seconds() for bot in survivors) + cpu_dead - cpu_before
    rows = await cluster.job_states()
    videos = posted_videos(cluster.fake, cluster.channels)
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
        first_takeover_seconds=first_takeover,
        stopped_exit_code=stopped_exit,
        problems=[line for bot in logs for line in logged_problems(bot.log_path)],
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


def report(result: TakeoverResult, config: TakeoverConfig) -> str:
    how = (
        "killed" if config.stop_signal is signal.SIGKILL else f"stopped ({config.stop_signal.name})"
    )
    kind = f"{config.processes} × {config.database}" + (f", one {how}" if config.kill else "")
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
        first = result.first_takeover_seconds
        lines.append(
            f"  {how} holding {result.killed_holding} open jobs; the first held by the "
            f"survivor {first if first is not None else float('nan'):.2f} s later, every "
            f"one {result.takeover_seconds:.2f} s later (lease {config.lease_seconds} s)"
        )
    if result.problems:
        lines.append(f"  {len(result.problems)} ERROR lines, e.g. {result.problems[0][:160]}")
    return "\n".join(lines)
