"""Whether a job's server and channel can still be reached: the gateway's cache answers for
what it shows, Discord is asked about the rest (and trusted for a while), and a Discord
that cannot answer never stops a job."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.discord_ui.destinations import DiscordDestinations
from bot.jobs.model import Failure
from tests.bot.discord_ui.test_status_board import forbidden, not_found

GUILD = 100
CHANNEL = 500


@dataclass
class Http:
    """Discord's REST answers: what raises for which id, and every id asked."""

    refuse: dict[int, Exception] = field(default_factory=dict)
    hang: bool = False
    asked: list[int] = field(default_factory=list)

    async def answer(self, snowflake: int) -> dict[str, Any]:
        self.asked.append(snowflake)
        if self.hang:
            await asyncio.Event().wait()
        if snowflake in self.refuse:
            raise self.refuse[snowflake]
        return {"id": str(snowflake)}

    async def get_guild(self, guild_id: int) -> dict[str, Any]:
        return await self.answer(guild_id)

    async def get_channel(self, channel_id: int) -> dict[str, Any]:
        return await self.answer(channel_id)


@dataclass
class Permissions:
    view_channel: bool


@dataclass
class Channel:
    visible: bool

    def permissions_for(self, member: object) -> Permissions:
        return Permissions(self.visible)


@dataclass
class Guild:
    channels: dict[int, Channel]
    unavailable: bool = False
    me: object = "the bot"

    def get_channel_or_thread(self, channel_id: int) -> Channel | None:
        return self.channels.get(channel_id)


@dataclass
class Client:
    """What the destinations read of discord.py's client: its cache and its REST."""

    guilds: dict[int, Guild] = field(default_factory=dict)
    http: Http = field(default_factory=Http)

    def get_guild(self, guild_id: int) -> Guild | None:
        return self.guilds.get(guild_id)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def destinations(client: Client, clock: Clock | None = None) -> DiscordDestinations:
    return DiscordDestinations(
        client,  # type: ignore[arg-type]
        monotonic=clock or Clock(),
        ask_within=0.2,
        trust_for=30.0,
    )


async def test_the_cache_answers_for_what_it_shows() -> None:
    client = Client({GUILD: Guild({CHANNEL: Channel(visible=True)})})
    assert await destinations(client).lost(GUILD, CHANNEL) is None
    assert client.http.asked == []
    assert await destinations(client).lost(None, CHANNEL) is None, "a direct message"


async def test_a_server_the_cache_does_not_show_is_asked_of_discord() -> None:
    client = Client(http=Http(refuse={GUILD: forbidden()}))
    assert await destinations(client).lost(GUILD, CHANNEL) is Failure.SERVER_LEFT
    assert client.http.asked == [GUILD], "the channel is not asked about"
    client.http.refuse = {CHANNEL: not_found(10003)}
    assert await destinations(client).lost(GUILD, CHANNEL) is Failure.CHANNEL_GONE


async def test_a_channel_out_of_the_bot_s_sight_is_confirmed_by_discord() -> None:
    client = Client({GUILD: Guild({CHANNEL: Channel(visible=False)})})
    client.http.refuse = {CHANNEL: forbidden()}
    assert await destinations(client).lost(GUILD, CHANNEL) is Failure.CHANNEL_GONE
    assert client.http.asked == [CHANNEL]
    client.http.refuse = {}
    assert await destinations(client).lost(GUILD, CHANNEL) is None, "the cache was behind"


async def test_a_reachable_answer_is_trusted_for_a_while() -> None:
    clock = Clock()
    client = Client()
    asking = destinations(client, clock)
    for _ in range(3):
        assert await asking.lost(GUILD, CHANNEL) is None
    assert client.http.asked == [GUILD, CHANNEL]
    clock.now = 31.0
    client.http.refuse = {GUILD: not_found(10004)}
    assert await asking.lost(GUILD, CHANNEL) is Failure.SERVER_LEFT


async def test_a_discord_that_cannot_answer_stops_nothing() -> None:
    client = Client(http=Http(hang=True))
    assert await destinations(client).lost(GUILD, CHANNEL) is None
    failing = Client(http=Http(refuse={GUILD: discord.DiscordServerError(_Response(503), "")}))
    assert await destinations(failing).lost(GUILD, CHANNEL) is None
    outage = Client({GUILD: Guild({}, unavailable=True)})
    assert await destinations(outage).lost(GUILD, CHANNEL) is None
    assert outage.http.asked == []


@dataclass
class _Response:
    status: int
    reason: str = "unavailable"


async def test_jobs_asking_at_once_share_one_request() -> None:
    client = Client()
    asking = destinations(client)
    answers = await asyncio.gather(*(asking.lost(GUILD, CHANNEL) for _ in range(20)))
    assert answers == [None] * 20
    assert client.http.asked == [GUILD, CHANNEL]


async def test_a_discord_that_cannot_answer_is_not_asked_by_every_job() -> None:
    client = Client(http=Http(hang=True))
    asking = destinations(client)
    assert await asking.lost(GUILD, CHANNEL) is None
    assert await asking.lost(GUILD, CHANNEL) is None
    assert client.http.asked == [GUILD, CHANNEL], "each asked once, then trusted a while"
    await asking.close()
