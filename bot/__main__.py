"""`python -m bot` runs the Discord bot; `python -m bot generate ...` makes one video;
`python -m bot doctor` checks the set-up.

Settings come from the environment and from `.env` in the working directory. Exit codes
are `bot.exits.Exit`, the same for the same cause in all three. SIGTERM and Ctrl-C stop
the bot cleanly (`bot.running`) with 0.
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
from bot.exits import Exit
from bot.logs import secrets_of, setup_logging
from bot.network import cause_of, host_of, unreachable

BAD_TOKEN = (
    "DISCORD_TOKEN was rejected by Discord. Copy the token again from the Developer Portal "
    "(your application → Bot → Reset Token) into .env."
)
INTENTS = (
    "Discord refused the gateway intents. This bot needs no privileged intents; "
    "check that the token belongs to the right application."
)
USAGE = (
    "usage: python -m bot            run the Discord bot\n"
    '       python -m bot generate "a prompt" [options]   make one video (see --help)\n'
    "       python -m bot doctor     check the set-up, one line per check"
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
    from bot.running import serve

    assert settings.discord is not None
    await serve(VideoBot(settings), settings.discord.token.reveal())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    load_dotenv(Path(".env"))
    if args[:1] == ["generate"]:
        from bot.cli import main as generate_main

        return generate_main(args[1:])
    if args[:1] == ["doctor"]:
        from bot.doctor import main as doctor_main

        return doctor_main(args[1:])
    if args and args[0] not in ("run",):
        print(USAGE, file=sys.stderr)
        return Exit.SETTINGS
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return Exit.SETTINGS
    setup_logging(settings.log_level, secrets_of(settings), log_format=settings.log_format)
    try:
        asyncio.run(run_bot(settings))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return Exit.SETTINGS
    except discord.LoginFailure:
        print(f"error: {BAD_TOKEN}", file=sys.stderr)
        return Exit.SETTINGS
    except discord.PrivilegedIntentsRequired:
        print(f"error: {INTENTS}", file=sys.stderr)
        return Exit.SETTINGS
    except discord.ConnectionClosed as error:
        if error.code not in GATEWAY_REFUSALS:
            raise
        print(f"error: {GATEWAY_REFUSALS[error.code]}", file=sys.stderr)
        return Exit.SETTINGS
    except (aiohttp.ClientConnectionError, TimeoutError) as error:
        print(f"error: {discord_unreachable(error)}", file=sys.stderr)
        return Exit.FAILED
    except KeyboardInterrupt:
        return Exit.OK
    return Exit.OK


def discord_unreachable(error: BaseException) -> str:
    """Discord out of reach at start-up: its host, the cause and what to check."""
    host, port = getattr(error, "host", None), getattr(error, "port", None)
    if host is None:
        where = host_of(discord.http.Route.BASE)
    else:
        where = host if port in (None, 80, 443) else f"{host}:{port}"
    return unreachable("Discord", where, cause_of(error))


if __name__ == "__main__":
    sys.exit(main())
