"""Several real bot processes as one bot: one fake Discord that speaks shards, one RunComfy
emulator, one server per process on that process's shard, one database (PostgreSQL;
SQLite for a single process), and one time (every process's scaled clock has the
cluster's origin). A process can be stopped with a signal and started again, or killed
with SIGKILL, leaving its leases behind, and the database read to see who holds which
job."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import ScaledClock
from testkit.discord import FakeChannel, FakeDiscord, FakeGuild, FakeMember
from testkit.discord.ratelimit import DISCORD_CHANNEL_LIMIT
from testkit.evidence import job_rows
from testkit.postgres import fetch
from testkit.process import BotProcess
from testkit.runcomfy import RunComfyEmulator
from testkit.runcomfy.simulation import Timing

SQLITE_FILE = "bot.sqlite3"


@dataclass
class ShardServer:
    """The server (guild) of one shard, its channels and its members."""

    guild: FakeGuild
    channels: list[FakeChannel]
    members: list[FakeMember]


@dataclass(frozen=True)
class ClusterShape:
    processes: int
    """Bot processes, one shard (and one server) each."""
    speed: float
    """Emulated seconds per real second, for the bots, the emulator and Discord's pacing."""
    lease_seconds: float
    channels_per_server: int
    members_per_server: int
    settings: Mapping[str, str] = field(default_factory=dict)
    """More environment settings for every process, over the cluster's own."""


@dataclass
class Cluster:
    shape: ClusterShape
    fake: FakeDiscord
    emulator: RunComfyEmulator
    clock: ScaledClock
    servers: list[ShardServer]
    workdir: Path
    dsn: str | None
    """The PostgreSQL database; None: SQLite in `workdir`."""
    bots: list[BotProcess] = field(default_factory=list)

    @classmethod
    async def open(
        cls,
        shape: ClusterShape,
        workdir: Path,
        dsn: str | None,
        *,
        generation_time: Timing,
        queue_delay: Timing | None,
    ) -> Cluster:
        """Both fakes started and the servers built; no bot yet (`start_bots`)."""
        clock = ScaledClock(shape.speed)
        count, per = DISCORD_CHANNEL_LIMIT
        fake = await FakeDiscord(
            channel_rate_limit=(count, per / shape.speed), recommended_shards=shape.processes
        ).start()
        emulator = RunComfyEmulator(
            clock=clock,
            workers=100_000,
            generation_time=generation_time,
            queue_delay=queue_delay,
        )
        await emulator.start()
        servers = [_server(fake, shard, shape) for shard in range(shape.processes)]
        return cls(shape, fake, emulator, clock, servers, workdir, dsn)

    @property
    def channels(self) -> list[FakeChannel]:
        return [channel for server in self.servers for channel in server.channels]

    async def start_bots(self) -> None:
        """One bot process per shard, each in a folder of its own; until all are ready."""
        for shard in range(self.shape.processes):
            self.bots.append(await self._start(shard))
        for bot in self.bots:
            await bot.wait_on_ready()

    async def _start(self, shard: int) -> BotProcess:
        folder = self.workdir / f"process-{shard}"
        folder.mkdir(parents=True, exist_ok=True)
        return await BotProcess.start(
            self.fake,
            self._environment(shard),
            workdir=folder,
            speed=self.shape.speed,
            guild_ready_timeout=0.2,
            clock_origin=self.clock.origin,
        )

    async def restart(self, shard: int) -> BotProcess:
        """Start shard's process again (once the previous one has exited) in the same
        folder with the same settings; until it is ready."""
        previous = self.bots[shard]
        if previous.process.returncode is None:
            raise RuntimeError("the previous process still runs; stop it first")
        bot = self.bots[shard] = await self._start(shard)
        await bot.wait_on_ready()
        return bot

    def _environment(self, shard: int) -> dict[str, str]:
        shape = self.shape
        database = self.dsn or f"sqlite:///{(self.workdir / SQLITE_FILE).resolve()}"
        env = {
            "DISCORD_TOKEN": self.fake.bot_token,
            "RUNCOMFY_API_TOKEN": self.emulator.token,
            "RUNCOMFY_API_BASE": self.emulator.base_url,
            "DATABASE_URL": database,
            "JOB_LEASE_SECONDS": str(shape.lease_seconds),
            "MAX_ACTIVE_JOBS_PER_USER": "100",
            "MAX_ACTIVE_JOBS_PER_SERVER": "1000",
            "MAX_ACTIVE_JOBS_TOTAL": "1000",
            "MAX_WAITING_JOBS_PER_USER": "100",
            "RUNCOMFY_MAX_REQUESTS_PER_SECOND": str(min(1000.0, 10 * shape.speed)),
        }
        if shape.processes > 1:
            env |= {"SHARD_COUNT": str(shape.processes), "SHARD_IDS": str(shard)}
        return env | dict(shape.settings)

    async def kill(self, bot: BotProcess) -> float:
        """SIGKILL: no clean shutdown, the process's leases left behind. Returns when
        (``time.monotonic()``) the signal was sent; returns once the process is gone."""
        bot.process.kill()
        killed_at = time.monotonic()
        await bot.process.wait()
        return killed_at

    async def held_by(self, bot: BotProcess, *, states: Sequence[str] = ()) -> int:
        """Open jobs whose lease names the process (its name is host:pid:random); only
        those in `states`, if given."""
        if self.dsn is None:
            raise ValueError("leases are read from PostgreSQL only")
        rows = await fetch(
            self.dsn,
            "SELECT count(*) AS n FROM jobs WHERE is_open = 1 AND lease_owner LIKE $1 "
            "AND (cardinality($2::text[]) = 0 OR state = ANY($2::text[]))",
            f"%:{bot.pid}:%",
            list(states),
        )
        return int(rows[0]["n"])

    async def job_states(self) -> dict[int, str]:
        """Job id → state, from the shared database."""
        if self.dsn is not None:
            rows = await fetch(self.dsn, "SELECT id, state FROM jobs")
            return {row["id"]: row["state"] for row in rows}
        return {job_id: row[0] for job_id, row in job_rows(self.workdir / SQLITE_FILE).items()}

    async def close(self) -> None:
        for bot in self.bots:
            await bot.stop()
        await self.emulator.close()
        await self.fake.close()


def _server(fake: FakeDiscord, shard: int, shape: ClusterShape) -> ShardServer:
    guild = fake.add_guild(f"Prompt Club {shard}", shard=(shard, shape.processes))
    return ShardServer(
        guild,
        [fake.add_text_channel(guild, f"s{shard}-{n}") for n in range(shape.channels_per_server)],
        [fake.add_member(guild, f"s{shard}-m{n}") for n in range(shape.members_per_server)],
    )
