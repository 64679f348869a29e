"""Start-up: the commands Discord sees, and one clear line for every start-up problem."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.__main__ import BAD_TOKEN, GATEWAY_REFUSALS, main
from testkit.discord import FakeDiscord

ROOT = Path(__file__).parents[2]
APP_COMMAND_OPTION_TYPES = {"string": 3, "integer": 4, "boolean": 5, "number": 10}


async def test_generate_command_has_typed_options_with_ranges_choices_and_defaults(world) -> None:
    [video] = [c for c in world.fake.registered_commands() if c["name"] == "video"]
    assert video["name"] == "video"
    [generate] = [o for o in video["options"] if o["name"] == "generate"]
    options = {o["name"]: o for o in generate["options"]}
    assert list(options) == [
        "prompt",
        "duration",
        "aspect_ratio",
        "negative_prompt",
        "cfg_scale",
        "sound",
    ]
    assert options["prompt"]["required"] is True
    assert options["prompt"]["type"] == APP_COMMAND_OPTION_TYPES["string"]
    assert (options["prompt"]["min_length"], options["prompt"]["max_length"]) == (1, 2500)
    assert options["duration"]["type"] == APP_COMMAND_OPTION_TYPES["integer"]
    assert (options["duration"]["min_value"], options["duration"]["max_value"]) == (3, 15)
    assert [c["value"] for c in options["aspect_ratio"]["choices"]] == ["16:9", "9:16", "1:1"]
    assert options["cfg_scale"]["type"] == APP_COMMAND_OPTION_TYPES["number"]
    assert (options["cfg_scale"]["min_value"], options["cfg_scale"]["max_value"]) == (0, 1)
    assert options["sound"]["type"] == APP_COMMAND_OPTION_TYPES["boolean"]
    for name in ("duration", "aspect_ratio", "cfg_scale", "sound"):
        assert "default" in options[name]["description"], f"{name} shows its default"
        assert options[name].get("required", False) is False


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.endswith("_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=env.pop("CWD"),
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RUNCOMFY_API_TOKEN": "x"}, "error: DISCORD_TOKEN is not set."),
        ({"DISCORD_TOKEN": "x"}, "error: RUNCOMFY_API_TOKEN is not set."),
        (
            {"DISCORD_TOKEN": "x", "RUNCOMFY_API_TOKEN": "y", "MAX_ACTIVE_JOBS_PER_USER": "lots"},
            "error: MAX_ACTIVE_JOBS_PER_USER is 'lots', "
            "but it must be a whole number from 1 to 100.",
        ),
    ],
)
def test_bad_settings_stop_start_up_with_one_line(tmp_path: Path, env, expected) -> None:
    result = run_cli(env={**env, "CWD": str(tmp_path)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)
    assert "Traceback" not in result.stderr


def test_settings_are_read_from_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RUNCOMFY_API_TOKEN=from-dotenv\n")
    result = run_cli(env={"CWD": str(tmp_path)})
    assert result.stderr.strip().startswith("error: DISCORD_TOKEN is not set.")


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """`main()` puts its handler on the root logger, writing to this test's captured stderr;
    left there, the next `main()` would log through it after that capture closed."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def fake_in_thread(request: pytest.FixtureRequest) -> Iterator[FakeDiscord]:
    """A fake Discord on its own loop, so `main()` can run its own `asyncio.run`
    (options by indirect parametrization)."""
    options = getattr(request, "param", {})
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = asyncio.run_coroutine_threadsafe(FakeDiscord(**options).start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_a_bad_discord_token_says_so_plainly(
    fake_in_thread: FakeDiscord,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_in_thread.patch_discord(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "not-the-bot-token")
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"error: {BAD_TOKEN}"
    assert "Traceback" not in err


@pytest.mark.parametrize("fake_in_thread", [{"max_guilds_per_session": 1}], indirect=True)
def test_too_few_shards_for_discord_say_so_plainly(
    fake_in_thread: FakeDiscord,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Discord closes a session that would serve too many servers with 4011."""
    fake_in_thread.add_guild("One")
    fake_in_thread.add_guild("Two", shard=(1, 2))
    fake_in_thread.patch_discord(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", fake_in_thread.bot_token)
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc")
    monkeypatch.setenv("SHARD_COUNT", "1")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"error: {GATEWAY_REFUSALS[4011]}"
    assert "Traceback" not in err


def test_console_script_runs_the_same_entry_point() -> None:
    [script] = [
        ep
        for ep in importlib.metadata.entry_points(group="console_scripts")
        if ep.name == "kling-video-bot"
    ]
    assert script.load() is main
