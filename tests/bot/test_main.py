"""`python -m bot`: its exit codes and the line it leaves when Discord is out of reach."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest

from bot.__main__ import main
from bot.exits import Exit


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_an_unknown_command_shows_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dcotor"]) == Exit.SETTINGS
    err = capsys.readouterr().err
    assert "python -m bot doctor" in err


def test_discord_out_of_reach_names_the_host_and_the_cause_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "x" * 30)
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "y" * 30)
    assert main([]) == Exit.FAILED
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"error: Could not reach Discord at 127.0.0.1:{port}: ")
    assert "the connection was refused" in last
