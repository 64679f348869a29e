"""The log: plain lines off a terminal, JSON for machines, the voice warnings gone, no secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest

from bot import log_context
from bot.config import LogFormat, load_settings
from bot.logs import VOICE_WARNINGS, secrets_of, setup_logging
from bot.redaction import REDACTED

ANSI = "\x1b["
BOT_TOKEN = "MTA4NzY1NDMyMTA5ODc2NTQzMg.GaBcDe.abcdefghijklmnopqrstuvwxyz0123"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    voice = logging.getLogger("discord.client")
    handlers, level, filters = list(root.handlers), root.level, list(voice.filters)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    voice.filters[:] = filters


def test_lines_written_to_a_file_or_pipe_carry_no_colour_codes() -> None:
    stream = io.StringIO()
    setup_logging("INFO", stream=stream)
    logging.getLogger("bot.test").warning("the disk is %s", "slow")
    line = stream.getvalue()
    assert ANSI not in line
    assert "WARNING" in line
    assert "bot.test: the disk is slow" in line


def test_lines_written_to_a_terminal_are_coloured() -> None:
    stream = Terminal()
    setup_logging("INFO", stream=stream)
    logging.getLogger("bot.test").warning("hello")
    assert ANSI in stream.getvalue()


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_writes_one_object_per_line_with_the_time_level_logger_and_message() -> None:
    stream = Terminal()
    setup_logging("INFO", log_format=LogFormat.JSON, stream=stream)
    logging.getLogger("bot.test").info("first line\nwith a break")
    logging.getLogger("bot.other").error("second")
    first, second = json_lines(stream)
    assert ANSI not in stream.getvalue(), "JSON is never coloured"
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.test"
    assert first["message"] == "first line\nwith a break"
    assert str(first["time"]).endswith("+00:00")
    assert "job_id" not in first
    assert (second["level"], second["logger"]) == ("ERROR", "bot.other")
    assert second["message"] == "second"


async def test_json_lines_name_the_job_server_and_request_of_the_task_that_logs() -> None:
    stream = io.StringIO()
    setup_logging("INFO", log_format=LogFormat.JSON, stream=stream)
    log = logging.getLogger("bot.test")

    async def job_task() -> None:
        log.info("polling")
        log_context.bind(request_id="req-123")
        log.info("accepted")

    context = log_context.context_for(job_id=12, server_id=345)
    await asyncio.get_running_loop().create_task(job_task(), context=context)
    log.info("outside any job")
    log.info("said so", extra={"job_id": 99})
    polling, accepted, outside, explicit = json_lines(stream)
    assert (polling["job_id"], polling["server_id"]) == (12, 345)
    assert "request_id" not in polling
    assert accepted["request_id"] == "req-123"
    assert not {"job_id", "server_id", "request_id"} & outside.keys(), "the task's own context"
    assert explicit["job_id"] == 99


def test_json_lines_carry_the_traceback_redacted() -> None:
    stream = io.StringIO()
    setup_logging("INFO", ["plain-secret-value-1"], log_format=LogFormat.JSON, stream=stream)
    try:
        raise RuntimeError(f"refused Bot {BOT_TOKEN} and plain-secret-value-1")
    except RuntimeError:
        logging.getLogger("bot.test").exception("asked with %s", BOT_TOKEN)
    [line] = json_lines(stream)
    text = stream.getvalue()
    assert BOT_TOKEN not in text
    assert "plain-secret-value-1" not in text
    assert REDACTED in str(line["message"])
    assert "RuntimeError" in str(line["exception"])


def test_discord_voice_library_warnings_are_dropped_and_other_warnings_kept() -> None:
    stream = io.StringIO()
    setup_logging("INFO", stream=stream)
    voice = discord.VoiceClient
    warned = voice.warn_nacl, voice.warn_dave
    voice.warn_nacl = voice.warn_dave = True
    try:
        discord.Client(intents=discord.Intents.none())
    finally:
        voice.warn_nacl, voice.warn_dave = warned
    logging.getLogger("discord.client").warning("something else")
    text = stream.getvalue()
    assert not [warning for warning in VOICE_WARNINGS if warning in text]
    assert "something else" in text


def test_the_database_password_is_among_the_secrets(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DISCORD_TOKEN": "d" * 30,
            "RUNCOMFY_API_TOKEN": "r" * 30,
            "DATABASE_URL": "postgresql://bot:pass-word-77@db.example:5432/kling",
        },
        base_dir=tmp_path,
    )
    stream = io.StringIO()
    setup_logging("INFO", secrets_of(settings), stream=stream)
    logging.getLogger("asyncpg").warning("auth failed for pass-word-77 at %s", "db.example")
    assert "pass-word-77" not in stream.getvalue()
    assert "db.example" in stream.getvalue()
