"""FakeDiscord: the test-facing API over the fake's server, world, records and faults.

Its methods come in rooms: building the world (``building``), acting as the members
(``driving``) and reading what the bot did (``observing``); this module starts and stops
the server, points discord.py at it and injects faults."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from .building import WorldBuilding
from .driving import UserDriving
from .errors import FakeDiscordUsageError
from .observing import Observing
from .patching import MonkeyPatch, patch_with, patched
from .ratelimit import DISCORD_CHANNEL_LIMIT
from .rest_channels import MESSAGES_BUCKET, ChannelRoutes
from .rest_commands import CommandRoutes
from .rest_core import CoreRoutes
from .rest_interactions import InteractionRoutes
from .rest_threads import ThreadRoutes
from .server import API_PREFIX, FakeServer
from .state import FakeConfig, FakeState
from .thread_building import ThreadBuilding
from .world import FakeChannel, FakeUser

MIB = 1024 * 1024


class FakeDiscord(WorldBuilding, ThreadBuilding, UserDriving, Observing):
    """A fake Discord (REST + gateway on 127.0.0.1) that the real discord.py logs into.

    Build the world, ``await start()``, point discord.py at it (``patch_discord``), run the
    bot, then drive users (``invoke_slash``, ``click_button``...) and assert on what the bot
    did (``channel_messages``, ``FakeInteraction``, ``errors``...).
    """

    def __init__(
        self,
        *,
        bot_token: str = "fake-bot-token.Gx3kVQ.fake",
        ack_deadline: float = 3.0,
        token_lifetime: float = 900.0,
        default_upload_limit: int = 10 * MIB,
        channel_rate_limit: tuple[int, float] = DISCORD_CHANNEL_LIMIT,
        nonce_window: float = 300.0,
        attachment_spill_bytes: int = 8 * MIB,
        route_rate_limit: tuple[int, float] = (50, 1.0),
        bot_name: str = "Kling Video",
        host: str = "127.0.0.1",
        recommended_shards: int = 1,
        max_concurrency: int = 1,
        max_guilds_per_session: int = 2500,
    ) -> None:
        self.config = FakeConfig(
            bot_token=bot_token,
            ack_deadline=ack_deadline,
            token_lifetime=token_lifetime,
            default_upload_limit=default_upload_limit,
            channel_rate_limit=channel_rate_limit,
            nonce_window=nonce_window,
            spill_threshold=attachment_spill_bytes,
            route_rate_limit=route_rate_limit,
            bot_name=bot_name,
            recommended_shards=recommended_shards,
            max_concurrency=max_concurrency,
            max_guilds_per_session=max_guilds_per_session,
        )
        self._state = FakeState(self.config)
        self._world = self._state.world
        self._host = host
        self._server: FakeServer | None = None

    # lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        state = self._state
        core = CoreRoutes(state)
        routes = (
            core.routes()
            + CommandRoutes(state).routes()
            + ChannelRoutes(state).routes()
            + InteractionRoutes(state).routes()
            + ThreadRoutes(state).routes()
        )
        self._server = FakeServer(state, routes, core.cdn, self._host)
        await self._server.start()
        state.payloads.cdn_base = self.cdn_base
        state.hub.base_url = self.gateway_url.rstrip("/")
        return self

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None
        self._state.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # addresses and pointing discord.py here ----------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise FakeDiscordUsageError("start() the fake first")
        return self._server.port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (discord.py appends the query)."""
        return f"ws://{self._host}:{self.port}/"

    @property
    def cdn_base(self) -> str:
        return self.base_url + "/cdn"

    def patch_discord(self, monkeypatch: MonkeyPatch) -> None:
        """Point discord.py here for one test via pytest's ``monkeypatch`` (auto-restored)."""
        patch_with(monkeypatch, self.api_base, self.gateway_url, self.cdn_base)

    @contextmanager
    def discord_patched(self) -> Iterator[None]:
        """The same as ``patch_discord`` as a context manager that restores on exit."""
        with patched(self.api_base, self.gateway_url, self.cdn_base):
            yield

    # identity ------------------------------------------------------------------------------

    @property
    def bot_token(self) -> str:
        return self.config.bot_token

    @property
    def bot_user(self) -> FakeUser:
        return self._world.bot

    @property
    def application_id(self) -> int:
        return self._world.application_id

    # faults and moderator actions ------------------------------------------------------

    def set_outage(self, enabled: bool = True, *, status: int = 503) -> None:
        """Channel message routes answer ``status`` (503: discord.py raises at once; 500/502
        make it retry 5 times with 1-9 s sleeps first)."""
        self._state.outage_status = status if enabled else None

    def hold_uploads(self) -> None:
        """Messages with files are not answered until `release_uploads` (a slow upload):
        each waits once its body is in, then is created as usual."""
        if self._state.upload_gate is None:
            self._state.upload_gate = asyncio.Event()

    def release_uploads(self) -> None:
        gate, self._state.upload_gate = self._state.upload_gate, None
        if gate is not None:
            gate.set()

    @property
    def uploads_held(self) -> int:
        """Uploads waiting for `release_uploads` right now."""
        return self._state.uploads_waiting

    def delete_message(self, channel: FakeChannel, message_id: int) -> None:
        """A moderator deletes a message (MESSAGE_DELETE reaches the bot)."""
        found = self._state.store.live(message_id)
        if found is None or found.channel_id != channel.id:
            raise FakeDiscordUsageError(f"no live message {message_id} in #{channel.name}")
        self._state.messenger.delete(found)

    def expire_interaction_tokens(self) -> None:
        """Jump every existing interaction past its token lifetime (and ack deadline)."""
        self._state.interactions.expire_tokens()

    def exhaust_rate_limit(self, channel: FakeChannel) -> None:
        """Use up the channel's message bucket, as another process with the token would."""
        count, per = self.config.channel_rate_limit
        self._state.limiter.drain(MESSAGES_BUCKET, str(channel.id), count, per)

    async def disconnect_gateway(self, *, resumable: bool = True) -> None:
        """Drop gateway connections: the bot RESUMEs (``resumable``) or re-IDENTIFYs."""
        await self._state.hub.disconnect(resumable=resumable)
