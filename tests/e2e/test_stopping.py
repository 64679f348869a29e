"""SIGTERM and SIGINT stop a real bot process cleanly, whatever its jobs are doing.

The bot runs as its own process (`testkit.bot_process`, which serves it through the
product's `bot.running`) against the fake Discord and RunComfy's emulator, on SQLite.
Four jobs are held in the four states a stop can meet: waiting in the bot's line,
queued at RunComfy, generating, and the video on its way to Discord (the fake holds the
upload). The signal comes; a command sent during the stop is told the bot is restarting;
the upload lands within the grace; the process exits 0. Started again, it finishes the
rest: every video is posted exactly once, no prompt is sent to RunComfy twice, and
neither process logged an ERROR.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from testkit.cluster import Cluster, ClusterShape
from testkit.discord import FakeDiscord, FakeInteraction
from testkit.evidence import job_number, job_rows, logged_problems, posted_videos
from testkit.process import BotProcess
from testkit.waiting import eventually
from tests.e2e.harness import embed_text

SPEED = 20.0
QUICK, LONG, USUAL = 5.0, 100_000.0, 20.0
"""Clock seconds of generation: the upload's job, the one left generating, the rest."""
RESTARTING = "The bot is restarting. Please try again in a minute."


def generation_time(payload: Mapping[str, Any]) -> float:
    prompt = str(payload.get("prompt", ""))
    return QUICK if "quick" in prompt else LONG if "long" in prompt else USUAL


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    shape = ClusterShape(
        processes=1,
        speed=SPEED,
        lease_seconds=15.0,
        channels_per_server=1,
        members_per_server=2,
        settings={"MAX_ACTIVE_JOBS_PER_USER": "2"},
    )
    cluster = await Cluster.open(
        shape, tmp_path, None, generation_time=generation_time, queue_delay=None
    )
    await cluster.start_bots()
    try:
        yield cluster
    finally:
        await cluster.close()


async def generate(cluster: Cluster, member: int, prompt: str) -> FakeInteraction:
    server = cluster.servers[0]
    return await cluster.fake.invoke_slash(
        server.channels[0],
        server.members[member],
        "video",
        subcommand="generate",
        options={"prompt": prompt, "duration": 5},
    )


async def number_of(interaction: FakeInteraction) -> int:
    await eventually(lambda: job_number(interaction) is not None, within=20, what="a job")
    number = job_number(interaction)
    assert number is not None
    return number


def shows(interaction: FakeInteraction, text: str) -> bool:
    status = interaction.original
    return status is not None and text in embed_text(status)


def states(cluster: Cluster) -> dict[int, str]:
    return {job: row[0] for job, row in job_rows(database(cluster)).items()}


def notices(cluster: Cluster) -> dict[int, str | None]:
    return {job: row[2] for job, row in job_rows(database(cluster)).items()}


def database(cluster: Cluster) -> Path:
    return cluster.workdir / "bot.sqlite3"


async def jobs_in_every_state(cluster: Cluster) -> dict[str, FakeInteraction]:
    """The command of a job in each state it is held in: uploading, generating, queued,
    waiting (its reply is the job's status message)."""
    emulator, fake = cluster.emulator, cluster.fake
    fake.hold_uploads()
    emulator.set_workers(2)
    commands = {
        "uploading": await generate(cluster, 1, "quick: a paper boat"),
        "generating": await generate(cluster, 0, "long: a glacier calving"),
    }
    await eventually(lambda: fake.uploads_held == 1, within=30, what="the upload held")
    generating = await number_of(commands["generating"])
    await eventually(
        lambda: states(cluster).get(generating) == "running", within=30, what="running"
    )
    emulator.set_workers(1)
    commands["queued"] = await generate(cluster, 0, "a lantern festival")
    commands["waiting"] = await generate(cluster, 0, "a fox in fresh snow")
    queued = await number_of(commands["queued"])
    await eventually(lambda: states(cluster).get(queued) == "queued", within=30, what="queued")
    assert states(cluster)[await number_of(commands["waiting"])] == "waiting"
    assert notices(cluster)[await number_of(commands["uploading"])] == "sending"
    return commands


async def finish_everything(cluster: Cluster, held: dict[str, int]) -> None:
    emulator = cluster.emulator
    emulator.set_workers(2)
    for job in list(emulator.jobs.values()):
        if "long" in str(job.payload.get("prompt")):
            emulator.finish_generating(job.request_id)
    await eventually(
        lambda: all(states(cluster).get(job) == "delivered" for job in held.values()),
        within=90,
        what="every job delivered",
    )


def assert_delivered_once_and_sent_once(cluster: Cluster, held: dict[str, int]) -> None:
    videos = posted_videos(cluster.fake, cluster.channels)
    assert {job: videos[job] for job in held.values()} == dict.fromkeys(held.values(), 1)
    submits = Counter(job.payload["prompt"] for job in cluster.emulator.jobs.values())
    assert len(submits) == len(held)
    assert max(submits.values()) == 1, submits


def assert_json_logs(bot: BotProcess, job: int, *, secrets: list[str]) -> None:
    """LOG_FORMAT=json: every line one object; the job's own lines name it and its
    server; no colour codes and no token anywhere."""
    text = bot.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"time", "level", "logger", "message"} <= lines[0].keys()
    about_the_job = [line for line in lines if f"job {job}" in line["message"]]
    assert about_the_job
    assert all(line.get("job_id") == job and "server_id" in line for line in about_the_job)
    assert "\x1b[" not in text
    assert not [secret for secret in secrets if secret in text]


def problems(*bots: BotProcess) -> list[str]:
    return [line for bot in bots for line in logged_problems(bot.log_path)]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_lets_the_upload_land_and_a_restart_finishes_the_rest(
    cluster: Cluster, signum: signal.Signals
) -> None:
    commands = await jobs_in_every_state(cluster)
    held = {state: await number_of(command) for state, command in commands.items()}
    first = cluster.bots[0]
    first.signal(signum)
    await eventually(
        lambda: f"{signum.name}: stopping" in first.log_path.read_text(),
        within=10,
        what="the bot stopping",
    )
    late = await generate(cluster, 1, "a command during the stop")
    callback = await late.wait_ack(timeout=10)
    assert callback.data["content"] == RESTARTING
    assert late.ephemeral
    await asyncio.sleep(1.0)
    assert first.process.returncode is None, "the bot waits for the upload under way"

    cluster.fake.release_uploads()
    assert await first.wait_exit(within=30) == 0
    assert states(cluster)[held["uploading"]] == "delivered", "the upload landed"
    assert states(cluster)[held["waiting"]] == "waiting", "nothing left the line"

    second = await cluster.restart(0)
    await finish_everything(cluster, held)
    assert_delivered_once_and_sent_once(cluster, held)
    await eventually(
        lambda: all(shows(command, "Delivered") for command in commands.values()),
        within=30,
        what="every status message showing the video delivered",
    )
    assert "a command during the stop" not in str(cluster.emulator.jobs)
    assert problems(first, second) == []


async def test_an_upload_past_the_grace_is_cut_off_and_posted_once_after_the_restart(
    tmp_path: Path,
) -> None:
    """The grace runs out (or a second signal cuts it short): the process still exits 0,
    and the video reaches its channel once: the upload Discord had taken is found by its
    nonce when the restarted bot sends it again."""
    shape = ClusterShape(
        processes=1,
        speed=SPEED,
        lease_seconds=15.0,
        channels_per_server=1,
        members_per_server=1,
        settings={"STOP_GRACE_SECONDS": "60", "LOG_FORMAT": "json"},
    )
    cluster = await Cluster.open(
        shape, tmp_path, None, generation_time=generation_time, queue_delay=None
    )
    try:
        await cluster.start_bots()
        cluster.fake.hold_uploads()
        number = await number_of(await generate(cluster, 0, "quick: a kite on a beach"))
        await eventually(lambda: cluster.fake.uploads_held == 1, within=30, what="held")
        first = cluster.bots[0]
        first.signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        first.signal(signal.SIGTERM)
        assert await first.wait_exit(within=30) == 0
        assert "cut off" in first.log_path.read_text()

        cluster.fake.release_uploads()
        second = await cluster.restart(0)
        await eventually(
            lambda: states(cluster).get(number) == "delivered", within=60, what="delivered"
        )
        assert posted_videos(cluster.fake, cluster.channels)[number] == 1
        assert cluster.emulator.submit_count == 1
        assert problems(first, second) == []
        assert_json_logs(first, number, secrets=[cluster.fake.bot_token, cluster.emulator.token])
    finally:
        await cluster.close()


@pytest.fixture
async def silent_database() -> AsyncIterator[str]:
    """A "PostgreSQL server" that takes the connection and never answers."""

    async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(100):
            pass
        writer.close()

    server = await asyncio.start_server(ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"postgresql://bot:secret-password@127.0.0.1:{port}/kling"
    server.close()
    await server.wait_closed()


async def test_a_stop_during_start_up_ends_it_at_once_with_0(
    tmp_path: Path, silent_database: str
) -> None:
    """Still connecting to its database: the signal interrupts the start-up instead of
    waiting for it."""
    async with FakeDiscord() as fake:
        bot = await BotProcess.spawn(
            fake,
            {
                "DISCORD_TOKEN": fake.bot_token,
                "RUNCOMFY_API_TOKEN": "rc-token-for-the-test",
                "DATABASE_URL": silent_database,
            },
            workdir=tmp_path,
            speed=1.0,
        )
        try:
            await eventually(
                lambda: any(r.path.endswith("/users/@me") for r in fake.requests),
                within=30,
                what="the bot logged in",
            )
            await asyncio.sleep(0.5)
            bot.signal(signal.SIGTERM)
            assert await bot.wait_exit(within=10) == 0
        finally:
            await bot.stop()
    log = bot.log_path.read_text()
    assert "SIGTERM during start-up: stopping" in log
    assert problems(bot) == []
    assert "secret-password" not in log
