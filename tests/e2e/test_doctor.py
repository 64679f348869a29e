"""`python -m bot doctor` against the fake Discord and RunComfy's emulator: every check
passes on a set-up the bot has run on, and each check fails with what to do."""

from __future__ import annotations

import io
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import discord
import pytest

from bot.doctor import command as doctor_command
from bot.doctor import run
from bot.doctor.discord_side import BotShape
from bot.server_settings import Setting
from testkit.discord import permissions
from testkit.postgres import PostgresServer, create_database
from tests.e2e.harness import World

ROOT = Path(__file__).parents[2]
EVERYTHING = permissions.DEFAULT_BOT | permissions.SEND_MESSAGES_IN_THREADS
MakeWorld = Callable[..., Awaitable[World]]


async def doctor(world: World, **env: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = await run({**world.env, **env}, out=out, base_dir=world.tmp_path)
    return code, out.getvalue().splitlines()


def line_with(lines: list[str], text: str) -> str:
    found = [line for line in lines if text in line]
    assert len(found) == 1, "\n".join(lines)
    return found[0]


def failed(lines: list[str], text: str) -> str:
    line = line_with(lines, text)
    assert line.startswith("✗ "), line
    assert " → " in line, "a failure says what to do"
    return line


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.fixture
async def ready(make_world: MakeWorld) -> World:
    """A set-up the bot has run on once: commands registered, database created."""
    world = await make_world()
    world.fake.set_bot_permissions(world.channel, EVERYTHING)
    return world


async def test_every_check_passes_on_a_set_up_the_bot_has_run_on(
    ready: World, free_port: int
) -> None:
    code, lines = await doctor(ready, HEALTH_PORT=str(free_port))
    assert code == 0, "\n".join(lines)
    assert all(line.startswith("✓ ") for line in lines), "\n".join(lines)
    for expected in (
        "settings: every setting is valid",
        "Discord token works: bot Kling Video",
        "privileged intents: the bot needs none",
        "commands: /session, /video registered globally",
        "permissions: in 1 of 1 servers",
        f"RunComfy at {ready.emulator.base_url.removeprefix('http://')} accepts",
        "at the current migration",
        "the video folder",
        f"health port 127.0.0.1:{free_port} is free",
    ):
        line_with(lines, expected)
    assert len(lines) == 9
    output = "\n".join(lines)
    assert ready.fake.bot_token not in output
    assert ready.emulator.token not in output


async def test_invalid_settings_stop_at_the_first_line(ready: World) -> None:
    code, lines = await doctor(ready, MAX_ACTIVE_JOBS_PER_USER="lots")
    assert code == 1
    [line] = lines
    assert line.startswith("✗ settings: MAX_ACTIVE_JOBS_PER_USER is 'lots'")


async def test_a_refused_discord_token_and_what_it_leaves_unchecked(ready: World) -> None:
    code, lines = await doctor(ready, DISCORD_TOKEN="not-the-bot-token-at-all")
    assert code == 1
    assert "Reset Token" in failed(lines, "DISCORD_TOKEN is refused")
    unchecked = [line for line in lines if line.startswith("– ")]
    assert len(unchecked) == 3
    assert all("needs a working Discord token" in line for line in unchecked)


async def test_discord_out_of_reach(
    ready: World, free_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{free_port}/api/v10")
    code, lines = await doctor(ready)
    assert code == 1
    line = failed(lines, "Discord did not answer")
    assert f"127.0.0.1:{free_port}: the connection was refused" in line


async def test_a_privileged_intent_switched_off(
    ready: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot asks for none today; a bot that asked for Message Content would need it on."""
    ready.fake.set_application_flags(0)
    real = doctor_command.bot_shape

    async def reading_messages(settings: object) -> BotShape:
        shape = await real(settings)  # type: ignore[arg-type]
        intents = discord.Intents.none()
        intents.guilds = intents.message_content = True
        return BotShape(intents, shape.commands)

    monkeypatch.setattr(doctor_command, "bot_shape", reading_messages)
    code, lines = await doctor(ready)
    assert code == 1
    line = failed(lines, "privileged intents")
    assert "Message Content" in line
    assert "Privileged Gateway Intents" in line


async def test_before_the_first_start_commands_and_database_are_missing(
    make_world: MakeWorld,
) -> None:
    world = await make_world(start=False)
    world.fake.set_bot_permissions(world.channel, EVERYTHING)
    code, lines = await doctor(world)
    assert code == 1
    assert "start the bot" in failed(lines, "commands: /session, /video not registered")
    assert "start the bot once" in failed(lines, "SQLite: no database yet")


async def test_a_missing_permission_is_named_by_channel(ready: World) -> None:
    ready.fake.set_bot_permissions(ready.channel, permissions.DEFAULT_BOT)
    hidden = ready.fake.add_text_channel(ready.guild, "mods-only", bot_permissions=0)
    code, lines = await doctor(ready)
    assert code == 1
    line = failed(lines, "permissions in Prompt Club")
    assert "#video-session lacks Send Messages in Threads" in line
    assert "mods-only" not in line, "a channel the bot cannot see and is not used in"

    await ready.bot.server_settings.set(ready.guild.id, Setting.CHANNELS, {hidden.id}, by=1)
    code, lines = await doctor(ready)
    line = failed(lines, "permissions in Prompt Club")
    assert "#mods-only lacks View Channel" in line
    assert "video-session" not in line, "only the channels the server allows"


async def test_a_bot_in_no_server(ready: World) -> None:
    ready.fake.remove_bot_from_guild(ready.guild)
    code, lines = await doctor(ready)
    assert code == 1
    assert "invite it" in failed(lines, "the bot is in no server")


async def test_runcomfy_refusing_the_token_or_out_of_reach(ready: World, free_port: int) -> None:
    code, lines = await doctor(ready, RUNCOMFY_API_TOKEN="rc-wrong-token-for-the-test")
    assert code == 1
    assert "Profile → API token" in failed(lines, "refuses RUNCOMFY_API_TOKEN")

    code, lines = await doctor(ready, RUNCOMFY_API_BASE=f"http://127.0.0.1:{free_port}")
    assert code == 1
    assert "the connection was refused" in failed(lines, "did not answer")


async def test_a_database_newer_than_the_bot(ready: World) -> None:
    path = ready.tmp_path / "data" / "bot.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    code, lines = await doctor(ready)
    assert code == 1
    assert "upgrade the bot" in failed(lines, "is at migration 999, newer than this bot")


async def test_a_video_folder_that_cannot_be_written_or_has_no_room(
    ready: World, tmp_path: Path
) -> None:
    code, lines = await doctor(ready, VIDEO_CACHE_MB=str(1024 * 1024))
    assert code == 1
    assert "lower VIDEO_CACHE_MB" in failed(lines, "is short of disk")

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the data folder should be")
    code, lines = await doctor(ready, DATABASE_URL=f"sqlite:///{blocked}/data/bot.sqlite3")
    assert code == 1
    assert "(Not a directory)" in failed(lines, "the video folder")


async def test_a_health_port_in_use(ready: World, taken_port: int) -> None:
    code, lines = await doctor(ready, HEALTH_PORT=str(taken_port))
    assert code == 1
    assert "pick another HEALTH_PORT" in failed(lines, f"health port 127.0.0.1:{taken_port}")


async def test_postgresql_missing_database_unknown_user_and_no_tables(
    ready: World, postgres_server: PostgresServer
) -> None:
    dsn = await create_database(postgres_server, "doctor_fresh")
    missing = dsn.rsplit("/", 1)[0] + "/no_such_database"
    code, lines = await doctor(ready, DATABASE_URL=missing)
    assert "createdb" in failed(lines, "the database does not exist")

    stranger = dsn.replace("postgresql://postgres@", "postgresql://nobody_here:pw@")
    code, lines = await doctor(ready, DATABASE_URL=stranger)
    assert "DATABASE_URL" in failed(lines, "refuses the user or the password")

    code, lines = await doctor(ready, DATABASE_URL=dsn)
    assert code == 1
    assert "start the bot once" in failed(lines, "is at migration 0 of")


def test_python_m_bot_doctor_runs_and_exits_1_on_a_failure(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "doctor"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("✗ settings: RUNCOMFY_API_TOKEN is not set.")
    assert result.stderr == ""
