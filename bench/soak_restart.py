"""The soak's PostgreSQL episode: the real bot process on a throwaway PostgreSQL server that
is restarted (a fast shutdown and a start, as an operator's restart or a fail-over does)
while jobs are under way and members keep sending commands.

Every command is answered; every job the bot took is delivered exactly once or ended with
a failure the bot stated (a job whose submit RunComfy never saw may end "unknown"; one it
took may not); none is sent to RunComfy twice; and the commands sent once the server is
back are taken (a command sent while it restarts may be refused with the bot's clear
message). It runs in a world of its own (fake Discord, emulator), so its job numbers,
which start at 1 again, never meet the SQLite bot's.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.world import BenchWorld, open_world
from testkit.discord import FakeInteraction
from testkit.evidence import SETTLED_STATES, job_number, logged_problems, posted_videos
from testkit.load import LoadModel
from testkit.postgres import PostgresServer, create_database, fetch, find_bin_dir
from testkit.process import BotProcess

EXPECTED_ERRORS = ("the job database refuses writes", "database refused to record it")
"""What the bot rightly says, at ERROR, while the server is down."""


@dataclass(frozen=True, slots=True)
class RestartConfig:
    jobs: int
    members: int
    channels: int
    speed: float
    command_window: float
    """Emulated seconds over which the commands arrive."""
    restart_at: float = 0.5
    """When the server restarts, as a fraction of the command window."""
    within: float = 300.0
    """Real seconds for every job to settle."""
    seed: int = 0


@dataclass
class RestartResult:
    jobs: int
    accepted: int
    refused: int
    unanswered: int
    delivered_once: int
    failures: dict[str, int]
    duplicates: dict[int, int]
    unaccounted: dict[int, str]
    submitted_twice: dict[str, int]
    down_seconds: float
    """Real seconds from the restart's start until the server took connections again."""
    sent_after: int
    """Commands sent once the server was back."""
    taken_after: int
    """…of which the bot took."""
    real_seconds: float
    errors: list[str] = field(default_factory=list)
    """ERROR lines of the bot's log other than the database's own refusals."""

    @property
    def held(self) -> bool:
        """Nothing lost, nothing twice, and the bot back to taking commands."""
        failed = sum(self.failures.values())
        return (
            not self.unaccounted
            and not self.unanswered
            and not self.duplicates
            and not self.submitted_twice
            and self.delivered_once + failed == self.accepted
            and self.taken_after == self.sent_after > 0
        )


async def run_restart(config: RestartConfig, workdir: Path) -> RestartResult | None:
    """One episode in a fresh world, server and bot process (None where PostgreSQL's
    server binaries are not installed)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return None
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    server = PostgresServer(bin_dir)
    try:
        await asyncio.to_thread(server.start)
        dsn = await create_database(server, "soak")
        model = LoadModel(config.seed)
        world = await open_world(
            speed=config.speed,
            channels=config.channels,
            members=config.members,
            generation_time=model.generation_time,
            queue_delay=model.queue_delay,
        )
        try:
            settings = world.settings(
                workdir / "data" / "unused.sqlite3",
                DATABASE_URL=dsn,
                MAX_ACTIVE_JOBS_PER_USER="5",
                MAX_WAITING_JOBS_PER_USER="100",
                MAX_ACTIVE_JOBS_PER_SERVER="200",
                MAX_ACTIVE_JOBS_TOTAL="200",
                RUNCOMFY_MAX_REQUESTS_PER_SECOND="200",
            )
            bot = await BotProcess.start(
                world.fake,
                settings,
                workdir=workdir,
                speed=config.speed,
                guild_ready_timeout=0.2,
                clock_origin=world.clock.origin,
            )
            try:
                await bot.wait_on_ready()
                return await _episode(world, bot, server, dsn, config, model)
            finally:
                await bot.stop()
        finally:
            await world.close()
    finally:
        await asyncio.to_thread(server.stop)


async def _episode(
    world: BenchWorld,
    bot: BotProcess,
    server: PostgresServer,
    dsn: str,
    config: RestartConfig,
    model: LoadModel,
) -> RestartResult:
    started = time.monotonic()
    plans = model.plans(config.jobs, members=config.members, channels=config.channels)
    step = config.command_window / max(len(plans), 1) / config.speed
    restart_after = int(len(plans) * config.restart_at)
    interactions: list[FakeInteraction] = []
    after_restart: list[FakeInteraction] = []
    down = 0.0
    for n, plan in enumerate(plans):
        if n == restart_after:
            began = time.monotonic()
            await asyncio.to_thread(server.restart)
            down = time.monotonic() - began
        interaction = await world.generate(plan)
        interactions.append(interaction)
        if n >= restart_after:
            after_restart.append(interaction)
        await asyncio.sleep(step)
    numbers = await _settle(interactions, dsn, config.within)
    rows = await _rows(dsn)
    videos = posted_videos(world.fake, world.channels)
    sent = Counter(str(job.payload.get("prompt")) for job in world.emulator.jobs.values())
    delivered, failures, unaccounted = 0, Counter[str](), {}
    for job_id in numbers:
        state, failure, prompt = rows.get(job_id, ("missing", None, ""))
        posted = videos.get(job_id, 0)
        if state == "delivered" and posted == 1:
            delivered += 1
        elif state not in SETTLED_STATES or state == "delivered" or posted:
            unaccounted[job_id] = f"{state} ({failure}) with {posted} video messages"
        elif state == "submission_unknown" and sent[prompt]:
            unaccounted[job_id] = f"{state} ({failure}), though RunComfy took it"
        else:
            failures[f"{state}/{failure}"] += 1
    unanswered = sum(1 for i in interactions if _answer(i) is None)
    return RestartResult(
        jobs=len(plans),
        accepted=len(numbers),
        refused=len(interactions) - len(numbers) - unanswered,
        unanswered=unanswered,
        delivered_once=delivered,
        failures=dict(failures),
        duplicates={job_id: n for job_id, n in videos.items() if n > 1},
        unaccounted=unaccounted,
        submitted_twice={prompt: n for prompt, n in sent.items() if n > 1},
        down_seconds=down,
        sent_after=len(after_restart),
        taken_after=sum(1 for i in after_restart if job_number(i) is not None),
        real_seconds=time.monotonic() - started,
        errors=[
            line
            for line in logged_problems(bot.log_path)
            if not any(expected in line for expected in EXPECTED_ERRORS)
        ],
    )


def _answer(interaction: FakeInteraction) -> int | str | None:
    """The job number, or the refusal's text; None while still "thinking…"."""
    if (number := job_number(interaction)) is not None:
        return number
    reply = interaction.original
    followups = [m.content or "" for m in interaction.followups if m is not reply]
    if followups:
        return followups[-1]
    return None if reply is None or reply.loading else (reply.content or "")


async def _rows(dsn: str) -> dict[int, tuple[str, str | None, str]]:
    """Job id → (state, failure, prompt)."""
    try:
        found = await fetch(dsn, "SELECT id, state, error, request FROM jobs")
    except OSError:
        return {}
    return {
        row["id"]: (row["state"], row["error"], str(json.loads(row["request"]).get("prompt")))
        for row in found
    }


async def _settle(interactions: list[FakeInteraction], dsn: str, within: float) -> list[int]:
    """Wait until every command is answered and every job it got is settled; the job ids."""
    deadline = time.monotonic() + within
    while True:
        answers = [_answer(interaction) for interaction in interactions]
        numbers = [answer for answer in answers if isinstance(answer, int)]
        rows = await _rows(dsn)
        settled = all(rows.get(n, ("",))[0] in SETTLED_STATES for n in numbers)
        if (None not in answers and settled) or time.monotonic() > deadline:
            return numbers
        await asyncio.sleep(0.5)


def report(result: RestartResult | None, config: RestartConfig) -> list[str]:
    if result is None:
        return ["  PostgreSQL restart: skipped (no PostgreSQL server binaries)"]
    failed = sum(result.failures.values())
    return [
        f"  PostgreSQL restart mid-run ({result.jobs} jobs over {config.command_window:.0f} "
        f"emulated s, server down {result.down_seconds:.1f} s real): "
        f"{'held' if result.held else 'NOT HELD'}",
        f"    accepted {result.accepted} · refused {result.refused} · never answered "
        f"{result.unanswered} · delivered exactly once {result.delivered_once} · stated "
        f"failures {failed} {result.failures or ''}",
        f"    taken after the restart {result.taken_after} of {result.sent_after} · "
        f"unaccounted {len(result.unaccounted)} · posted twice {len(result.duplicates)} · "
        f"submitted twice {len(result.submitted_twice)} · other ERROR lines "
        f"{len(result.errors)}",
        *(f"      {line[:200]}" for line in result.errors[:3]),
    ]
