"""`python -m bot doctor`: every check in order, one line each, exit 0 when all pass.

Settings come first (every other check needs them); the database is read before Discord,
since the servers' `/video settings channels` say which channels the bot is used in.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, load_settings
from bot.doctor import local
from bot.doctor.discord_side import bot_shape, check_discord
from bot.doctor.findings import Finding
from bot.exits import Exit
from bot.logs import secrets_of, setup_logging


async def run(
    env: Mapping[str, str] | None = None,
    *,
    out: TextIO | None = None,
    base_dir: Path | None = None,
) -> int:
    """Run every check, writing each line to `out` as it is known; the exit code."""
    out = out or sys.stdout
    try:
        settings = load_settings(env, base_dir=base_dir)
    except ConfigError as error:
        _say(out, Finding.failed(f"settings: {error}", "then run the doctor again"))
        return Exit.FAILED
    _say(out, Finding.passed("settings: every setting is valid"))
    stored, channels = await local.database(settings)
    found = [
        *await check_discord(settings, await bot_shape(settings), channels),
        await local.runcomfy_token(settings),
        stored,
        await asyncio.to_thread(local.video_folder, settings),
        local.health_port(settings),
    ]
    for finding in found:
        _say(out, finding)
    return Exit.OK if all(finding.ok for finding in found) else Exit.FAILED


def _say(out: TextIO, finding: Finding) -> None:
    print(finding.line(), file=out, flush=True)


def main(argv: Sequence[str]) -> int:
    """Entry point for `python -m bot doctor` (`bot.__main__` has read `.env`)."""
    argparse.ArgumentParser(
        prog="python -m bot doctor",
        description="Check the set-up before members try it: one line per check, ✓ or ✗ "
        "with what to do. Exit code 0 when every check passes, 1 otherwise.",
    ).parse_args(list(argv))
    try:
        settings = load_settings()
    except ConfigError:
        settings = None
    setup_logging("ERROR", secrets_of(settings) if settings else ())
    return asyncio.run(run())
