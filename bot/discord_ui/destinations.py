"""Whether a job's server and channel can still be reached: the Discord side of the tracker's
`Destinations` port (see `bot.jobs.departures`), asked before each submit.

This process's gateway cache answers for the servers of its own shards once they are
loaded: the server is there and the bot sees the channel, so the job may go. Anything the
cache does not show is asked of Discord itself (`GET /guilds/{id}`, then
`GET /channels/{id}`), which answers for every shard and also before the gateway is
ready after a restart: 403 or 404 means gone. Any other answer is trusted for a short
while, and jobs asking at once share one request, so a line full of another shard's jobs
costs one request per server and channel, not one per job. Discord slow or down means
"cannot tell": the job goes ahead, as it would have before.

At start-up (`sweep`), jobs this process took up whose server or channel went while it
was down are abandoned like those of a live departure: queued ones are cancelled at
RunComfy, free of charge. Should the database refuse meanwhile, each waiting job is still
stopped when its turn comes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.discord_ui.permissions import permissions_in
from bot.jobs.leases import LeaseLost
from bot.jobs.model import Failure
from bot.jobs.ports import StoreError
from bot.jobs.tracker import JobTracker

log = logging.getLogger(__name__)

ASK_WITHIN = 3.0
"""Real seconds Discord has to answer whether a server or channel is still there."""
TRUST_FOR = 30.0
"""Real seconds a reachable answer from Discord is trusted (the departure's own event,
here or through the peers, is what stops jobs at once)."""
TRUSTED_AT_MOST = 10_000
"""Reachable answers kept at most (expired ones are dropped first)."""


class DiscordDestinations:
    def __init__(
        self,
        client: discord.Client,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        ask_within: float = ASK_WITHIN,
        trust_for: float = TRUST_FOR,
    ) -> None:
        self._client = client
        self._monotonic = monotonic
        self._ask_within = ask_within
        self._trust_for = trust_for
        self._reachable: dict[tuple[str, int], float] = {}
        """("guild" | "channel", id) → until when Discord's "it is there" (or "cannot tell")
        is trusted."""
        self._asking: dict[tuple[str, int], asyncio.Task[bool]] = {}

    async def lost(self, guild_id: int | None, channel_id: int) -> Failure | None:
        if guild_id is None:
            return None
        guild = self._client.get_guild(guild_id)
        if guild is not None:
            if guild.unavailable:
                return None  # Discord's outage: it is still the bot's server
            me = guild.me
            permissions = None if me is None else permissions_in(guild, channel_id, me)
            if permissions is not None and permissions.view_channel:
                return None
        elif not await self._there("guild", guild_id, self._client.http.get_guild):
            return Failure.SERVER_LEFT
        if not await self._there("channel", channel_id, self._client.http.get_channel):
            return Failure.CHANNEL_GONE
        return None

    async def sweep(self, tracker: JobTracker) -> None:
        """Abandon this process's jobs whose server or channel is gone (at start-up: what
        went while the bot was down sent no event)."""
        servers: set[int] = set()
        channels: set[int] = set()
        for guild_id, channel_id in {(job.guild_id, job.channel_id) for job in tracker.open_jobs()}:
            if guild_id in servers:
                continue
            failure = await self.lost(guild_id, channel_id)
            if failure is Failure.SERVER_LEFT and guild_id is not None:
                servers.add(guild_id)
            elif failure is Failure.CHANNEL_GONE:
                channels.add(channel_id)
        try:
            for guild_id in servers:
                await tracker.abandon(guild_id=guild_id, failure=Failure.SERVER_LEFT)
            for channel_id in channels:
                await tracker.abandon(channel_id=channel_id, failure=Failure.CHANNEL_GONE)
        except (StoreError, LeaseLost) as error:
            log.warning("could not stop every job of a server or channel gone: %s", error)

    async def _there(self, kind: str, snowflake: int, ask: Callable[[int], Awaitable[Any]]) -> bool:
        """Whether Discord shows the bot the server or channel; True when it cannot tell.
        Jobs asking about the same one at once share one request."""
        key = (kind, snowflake)
        if self._reachable.get(key, 0.0) > self._monotonic():
            return True
        asking = self._asking.get(key)
        if asking is None:
            asking = asyncio.create_task(self._ask(key, ask), name=f"ask-{kind}-{snowflake}")
            self._asking[key] = asking
            asking.add_done_callback(lambda _: self._asking.pop(key, None))
        return await asyncio.shield(asking)

    async def _ask(self, key: tuple[str, int], ask: Callable[[int], Awaitable[Any]]) -> bool:
        kind, snowflake = key
        try:
            async with asyncio.timeout(self._ask_within):
                await ask(snowflake)
        except (discord.Forbidden, discord.NotFound):
            self._reachable.pop(key, None)
            return False
        except (TimeoutError, discord.HTTPException, OSError) as error:
            log.info(
                "could not ask Discord whether %s %d is still there: %r", kind, snowflake, error
            )
        self._trust(key)
        return True

    async def close(self) -> None:
        """Stop asking (the bot closes)."""
        for task in list(self._asking.values()):
            task.cancel()
        await asyncio.gather(*self._asking.values(), return_exceptions=True)

    def _trust(self, key: tuple[str, int]) -> None:
        now = self._monotonic()
        if len(self._reachable) >= TRUSTED_AT_MOST:
            self._reachable = {key: until for key, until in self._reachable.items() if until > now}
            while len(self._reachable) >= TRUSTED_AT_MOST:
                del self._reachable[next(iter(self._reachable))]
        self._reachable[key] = now + self._trust_for
