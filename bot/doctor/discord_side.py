"""The doctor's Discord checks, over Discord's REST API only (no gateway session, so a
running bot is not disturbed): the token (the bot user and its application), the
privileged intents the bot asks for against the application's switches, the registered
commands against the bot's own, and the bot's permissions in every server it is in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient

from bot.app import VideoBot, extensions
from bot.config import Settings
from bot.doctor.findings import Finding
from bot.doctor.local import Channels
from bot.doctor.permissions import VIEW_CHANNEL, channel_permissions, missing
from bot.network import cause_of, host_of, unreachable

TEXT_CHANNEL_TYPES = (0, 5)
"""Text and announcement channels: where the bot's commands are used."""
PRIVILEGED = (
    ("members", "Server Members", (1 << 14) | (1 << 15)),
    ("presences", "Presence", (1 << 12) | (1 << 13)),
    ("message_content", "Message Content", (1 << 18) | (1 << 19)),
)
"""Each privileged intent, its name in the Developer Portal, and the application flags
that say it is switched on (the full one, or the limited one of a bot in fewer than 100
servers)."""
NOT_LOGGED_IN = "needs a working Discord token"
TOKEN_TODO = (
    "copy the token again from the Developer Portal (your application → Bot → Reset "
    "Token) into DISCORD_TOKEN in .env"
)


@dataclass(frozen=True, slots=True)
class BotShape:
    """What the bot's code asks of Discord: its intents and its commands."""

    intents: discord.Intents
    commands: list[dict[str, Any]]


async def bot_shape(settings: Settings) -> BotShape:
    """The bot as its code builds it (its extensions loaded), without connecting."""
    bot = VideoBot(settings)
    for extension in extensions():
        await bot.load_extension(extension)
    return BotShape(bot.intents, [command.to_dict(bot.tree) for command in bot.tree.get_commands()])


async def check_discord(
    settings: Settings, shape: BotShape, allowed: Channels | None
) -> list[Finding]:
    assert settings.discord is not None
    http = HTTPClient(asyncio.get_running_loop())
    try:
        try:
            me = await http.static_login(settings.discord.token.reveal())
            app = await http.application_info()
        except discord.LoginFailure:
            return _not_logged_in(Finding.failed("DISCORD_TOKEN is refused by Discord", TOKEN_TODO))
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            line = unreachable("Discord", host_of(discord.http.Route.BASE), cause_of(error))
            return _not_logged_in(Finding.failed("Discord did not answer", line))
        findings = [
            Finding.passed(
                f"Discord token works: bot {me['username']} (id {me['id']}), application "
                f"{app['name']} (id {app['id']})"
            ),
            intents_finding(shape.intents, int(app.get("flags") or 0)),
            await _commands(http, int(app["id"]), settings, shape.commands),
        ]
        findings += await _servers(http, int(me["id"]), allowed or {})
        return findings
    finally:
        await http.close()


def _not_logged_in(first: Finding) -> list[Finding]:
    return [
        first,
        *(
            Finding.not_checked(what, NOT_LOGGED_IN)
            for what in ("privileged intents", "commands", "permissions in the servers")
        ),
    ]


def intents_finding(intents: discord.Intents, application_flags: int) -> Finding:
    """The privileged intents the bot asks for, each switched on for the application."""
    asked = [(name, flags) for attr, name, flags in PRIVILEGED if getattr(intents, attr)]
    off = [name for name, flags in asked if not application_flags & flags]
    if off:
        return Finding.failed(
            f"privileged intents: the bot needs {', '.join(off)}, switched off for the application",
            "switch it on: Developer Portal → your application → Bot → Privileged Gateway Intents",
        )
    if not asked:
        return Finding.passed("privileged intents: the bot needs none (it reads no messages)")
    return Finding.passed(f"privileged intents: {', '.join(n for n, _ in asked)} switched on")


def shape_of(commands: Iterable[Mapping[str, Any]]) -> set[tuple[Any, ...]]:
    """Commands as Discord keeps them, without ids, texts or versions: each one's name,
    type and options, down to every subcommand and option."""
    return {_shape(command) for command in commands}


def _shape(node: Mapping[str, Any]) -> tuple[Any, ...]:
    options = node.get("options") or ()
    return (
        node.get("name"),
        int(node.get("type") or 1),
        bool(node.get("required", False)),
        frozenset(_shape(option) for option in options),
    )


async def _commands(
    http: HTTPClient, app_id: int, settings: Settings, expected: Sequence[Mapping[str, Any]]
) -> Finding:
    assert settings.discord is not None
    guild_ids = settings.discord.command_guild_ids
    wanted = shape_of(expected)
    names = ", ".join(sorted(f"/{command['name']}" for command in expected))
    stale = []
    for guild_id in guild_ids or (None,):
        if guild_id is None:
            registered = await http.get_global_commands(app_id)
        else:
            registered = await http.get_guild_commands(app_id, guild_id)
        if shape_of(registered) != wanted:
            stale.append("globally" if guild_id is None else f"in server {guild_id}")
    if stale:
        return Finding.failed(
            f"commands: {names} not registered as this bot has them ({', '.join(stale)})",
            "start the bot: the process that runs shard 0 registers them at start-up (global "
            "commands can take up to an hour to show)",
        )
    where = "globally" if not guild_ids else f"in {len(guild_ids)} servers"
    return Finding.passed(f"commands: {names} registered {where}, as this bot has them")


async def _servers(http: HTTPClient, bot_id: int, allowed: Channels) -> list[Finding]:
    guilds: list[Any] = []
    after: int | None = None
    while True:
        page = await http.get_guilds(200, after=after, with_counts=False)
        guilds += page
        if len(page) < 200:
            break
        after = int(page[-1]["id"])
    if not guilds:
        return [
            Finding.failed(
                "permissions: the bot is in no server",
                "invite it with the link in the README (scopes bot and applications.commands)",
            )
        ]
    findings = []
    passed = 0
    for guild in guilds:
        try:
            problem = await _server_problem(http, bot_id, int(guild["id"]), allowed)
        except discord.HTTPException as error:
            problem = f"Discord refused to show it ({error.status} {error.text})"
        if problem is None:
            passed += 1
        else:
            findings.append(
                Finding.failed(
                    f"permissions in {guild['name']} ({guild['id']}): {problem}",
                    "give the bot's role these permissions (Server Settings → Roles), or "
                    "allow them in each channel's permissions",
                )
            )
    if passed:
        findings.insert(
            0,
            Finding.passed(
                f"permissions: in {passed} of {len(guilds)} servers the bot may do what it "
                "needs in every channel it is used in"
            ),
        )
    return findings


async def _server_problem(
    http: HTTPClient, bot_id: int, guild_id: int, allowed: Channels
) -> str | None:
    """What the bot lacks in the server's channels; None when nothing."""
    guild = await http.get_guild(guild_id, with_counts=False)
    channels = await http.get_all_guild_channels(guild_id)
    member = await http.get_member(guild_id, bot_id)
    roles = {int(role["id"]): int(role["permissions"]) for role in guild.get("roles", ())}
    listed = allowed.get(guild_id)
    lacking = []
    seen = 0
    for channel in channels:
        if channel.get("type") not in TEXT_CHANNEL_TYPES:
            continue
        if listed is not None and int(channel["id"]) not in listed:
            continue
        permissions = channel_permissions(
            guild_id=guild_id,
            owner_id=int(guild.get("owner_id") or 0),
            member_id=bot_id,
            member_roles=(int(role) for role in member.get("roles", ())),
            roles=roles,
            overwrites=channel.get("permission_overwrites") or (),
        )
        if listed is None and not permissions & VIEW_CHANNEL:
            continue
        seen += 1
        if gaps := missing(permissions):
            lacking.append(f"#{channel.get('name')} lacks {', '.join(gaps)}")
    if lacking:
        return "; ".join(lacking)
    if not seen:
        return "the bot can see no text channel"
    return None
