"""`python -m bot` runs the Discord bot; `python -m bot generate ...` makes one video.

Settings come from the environment and from `.env` in the working directory.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import discord
from dotenv import load_dotenv

from bot.config import ConfigError, Settings, load_settings
from bot.logs import secrets_of, setup_logging

BAD_TOKEN = (
    "DISCORD_TOKEN was rejected by Discord. Copy the token again from the Developer Portal "
    "(your application → Bot → Reset Token) into .env."
)
INTENTS = (
    "Discord refused the gateway intents. This bot needs no privileged intents; "
    "check that the token belongs to the right application."
)
GATEWAY_REFUSALS = {
    4010: "Discord refused the shard this process asked for. Check SHARD_COUNT and SHARD_IDS.",
    4011: (
        "Discord requires more shards: a shard may serve at most 2,500 servers. Raise "
        "SHARD_COUNT (and SHARD_IDS across the processes), or leave both empty to run as "
        "many as Discord recommends."
    ),
}


async def run_bot(settings: Settings) -> None:
    from bot.app import VideoBot

    assert settings.discord is not None
    async with VideoBot(settings) as bot:
        await bot.start(settings.discord.token.reveal())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    load_dotenv(Path(".env"))
    if args[:1] == ["generate"]:
        from bot.cli import main as generate_main

        return generate_main(args[1:])
    if args and args[0] not in ("run",):
        print(
            "usage: python -m bot            run the Discord bot\n"
            '       python -m bot generate "a prompt" [options]   make one video (see --help)',
            file=sys.stderr,
        )
        return 2
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, secrets_of(settings), log_format=settings.log_format)
    try:
        asyncio.run(run_bot(settings))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except discord.LoginFailure:
        print(f"error: {BAD_TOKEN}", file=sys.stderr)
        return 2
    except discord.PrivilegedIntentsRequired:
        print(f"error: {INTENTS}", file=sys.stderr)
        return 2
    except discord.ConnectionClosed as error:
        if error.code not in GATEWAY_REFUSALS:
            raise
        print(f"error: {GATEWAY_REFUSALS[error.code]}", file=sys.stderr)
        return 2
    except (aiohttp.ClientConnectionError, TimeoutError) as error:
        print(f"error: could not reach Discord ({error}). Check the network.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
