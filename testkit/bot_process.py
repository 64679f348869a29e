"""The real bot as its own process, pointed at the benchmark's fake Discord.

A bench tool, not a product entry point: it sets discord.py's REST, gateway and CDN
addresses to the fake, puts the bot on a `ScaledClock`, shortens the real-time Discord
pacing by the same factor, and prints machine-readable lines on stdout:

    BENCH-READY {...}     logged in (gateway READY), commands synced, jobs reloaded
    BENCH-ON-READY {...}  discord.py's on_ready, after its guild_ready_timeout wait

Settings come from the environment exactly as for `python -m bot` (no .env is read).
The bot runs through the product's own `bot.running.serve`, so SIGTERM and SIGINT stop it
exactly as they stop `python -m bot`, and the exit code is the product's (`bot.exits`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence

import discord
import discord.gateway
import discord.http
import yarl

from bot.app import VideoBot
from bot.clock import ScaledClock
from bot.config import Settings, load_settings
from bot.logs import secrets_of, setup_logging
from bot.running import serve
from bot.tuning import Tuning

READY = "BENCH-READY"
ON_READY = "BENCH-ON-READY"


def point_discord_at(api_base: str, gateway_url: str, cdn_base: str) -> None:
    """discord.py reads these class attributes per request and per connection."""
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    discord.Asset.BASE = cdn_base


def announce(tag: str, bot: VideoBot) -> None:
    facts = {
        "pid": os.getpid(),
        "wall": time.time(),
        "guilds": len(bot.guilds),
        "open_jobs": len(bot.tracker.open_jobs()),
    }
    print(f"{tag} {json.dumps(facts)}", flush=True)


async def run(
    settings: Settings, *, speed: float, tuning: Tuning, clock_origin: float | None = None
) -> None:
    assert settings.discord is not None
    bot = VideoBot(settings, clock=ScaledClock(speed, origin=clock_origin), tuning=tuning)
    connected = asyncio.Event()

    async def on_connect() -> None:
        if not connected.is_set():
            connected.set()
            announce(READY, bot)

    async def on_ready() -> None:
        announce(ON_READY, bot)

    bot.add_listener(on_connect, "on_connect")
    bot.add_listener(on_ready, "on_ready")
    await serve(bot, settings.discord.token.reveal())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-base", required=True, help="the fake's REST base (/api/v10)")
    parser.add_argument("--gateway-url", required=True, help="the fake's gateway websocket")
    parser.add_argument("--cdn-base", required=True, help="the fake's CDN base")
    parser.add_argument("--speed", type=float, default=1.0, help="clock seconds per real second")
    parser.add_argument(
        "--clock-origin",
        type=float,
        help="the Unix time at which the scaled clock reads real time (bots given one agree)",
    )
    parser.add_argument(
        "--guild-ready-timeout",
        type=float,
        default=Tuning().guild_ready_timeout,
        help="real seconds discord.py waits for more servers before on_ready",
    )
    args = parser.parse_args(argv)
    settings = load_settings(os.environ)
    setup_logging(settings.log_level, secrets_of(settings), log_format=settings.log_format)
    point_discord_at(args.api_base, args.gateway_url, args.cdn_base)
    tuning = Tuning(
        channel_edit_interval=Tuning().channel_edit_interval / args.speed,
        status_refresh_interval=Tuning().status_refresh_interval / args.speed,
        guild_ready_timeout=args.guild_ready_timeout,
    )
    asyncio.run(run(settings, speed=args.speed, tuning=tuning, clock_origin=args.clock_origin))
    return 0


if __name__ == "__main__":
    sys.exit(main())
