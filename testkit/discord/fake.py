"""FakeDiscord: the test-facing API over the fake's server, world, records and faults."""

# Waits take an explicit ``timeout`` so a failing test names what it waited for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from . import permissions as perms
from .commands import SyncRecord
from .drafts import MessageDraft
from .errors import FakeDiscordUsageError
from .gateway import GUILD_MEMBERS, GUILDS, GatewaySession
from .ids import shard_of
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    FakeInteraction,
)
from .invocations import OptionValue
from .mentions import Pings
from .patching import MonkeyPatch, patch_with, patched
from .records import ErrorRecord, FakeMessage, RequestRecord
from .rest_channels import MESSAGES_BUCKET, ChannelRoutes
from .rest_commands import CommandRoutes
from .rest_core import CoreRoutes
from .rest_interactions import InteractionRoutes
from .server import API_PREFIX, FakeServer
from .state import FakeConfig, FakeState
from .world import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser

MIB = 1024 * 1024


class FakeDiscord:
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
        channel_rate_limit: tuple[int, float] = (5, 5.0),
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

    # world building --------------------------------------------------------------------

    def add_guild(
        self,
        name: str,
        *,
        upload_limit: int | None = None,
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A guild the bot is in; ``upload_limit`` (bytes) defaults to the fake's default.
        ``shard=(shard_id, shard_count)`` picks an id that puts it on that shard."""
        guild = self._world.add_guild(name, upload_limit=upload_limit, shard=shard)
        self._state.hub.announce_guild(guild)
        return guild

    @staticmethod
    def shard_of(guild: FakeGuild, shard_count: int) -> int:
        """The shard of ``shard_count`` that receives the guild's events."""
        return shard_of(guild.id, shard_count)

    def add_role(
        self,
        guild: FakeGuild,
        name: str,
        *,
        permissions: perms.PermissionsLike = 0,
        mentionable: bool = False,
    ) -> FakeRole:
        role = self._world.add_role(
            guild, name, permissions=perms.as_int(permissions), mentionable=mentionable
        )
        self._state.hub.dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": self._state.payloads.role(role)},
            guild_id=guild.id,
            intent=GUILDS,
        )
        return role

    def add_text_channel(
        self,
        guild: FakeGuild,
        name: str,
        *,
        bot_permissions: perms.PermissionsLike = perms.DEFAULT_BOT,
        topic: str | None = None,
    ) -> FakeChannel:
        """A text channel; the bot holds exactly ``bot_permissions`` there (enforced, and
        sent as ``app_permissions`` and as the bot's permission overwrite)."""
        channel = self._world.add_text_channel(
            guild, name, bot_permissions=perms.as_int(bot_permissions), topic=topic
        )
        self._state.hub.dispatch(
            "CHANNEL_CREATE",
            self._state.payloads.channel(channel),
            guild_id=guild.id,
            intent=GUILDS,
        )
        return channel

    def add_member(
        self,
        guild: FakeGuild,
        name: str,
        *,
        roles: Sequence[FakeRole] = (),
        permissions: perms.PermissionsLike = perms.DEFAULT_MEMBER,
        user: FakeUser | None = None,
        accepts_dms: bool = True,
    ) -> FakeMember:
        """A member (a new user unless ``user`` is given); their permissions in a channel are
        ``permissions`` plus their roles' (Administrator implies all)."""
        user = user or self._world.add_user(name, accepts_dms=accepts_dms)
        member = self._world.add_member(
            guild, user, roles=list(roles), permissions=perms.as_int(permissions)
        )
        payload = {**self._state.payloads.member(member), "guild_id": str(guild.id)}
        self._state.hub.dispatch(
            "GUILD_MEMBER_ADD", payload, guild_id=guild.id, intent=GUILD_MEMBERS
        )
        for channel in guild.channels.values():
            self._announce_channel(channel)
        return member

    def set_bot_permissions(self, channel: FakeChannel, permissions: perms.PermissionsLike) -> None:
        channel.bot_permissions = perms.as_int(permissions)
        channel.bot_denied &= ~channel.bot_permissions
        self._announce_channel(channel)

    def remove_bot_from_guild(self, guild: FakeGuild) -> None:
        """The bot is kicked (or the guild deleted): GUILD_DELETE without ``unavailable``,
        which is how Discord says the bot was removed; afterwards its REST calls to the
        guild and its channels answer 403/50001 Missing Access."""
        self._world.remove_guild(guild)
        self._state.hub.dispatch(
            "GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id, intent=GUILDS
        )

    def delete_channel(self, channel: FakeChannel) -> None:
        """A moderator deletes the channel: CHANNEL_DELETE with the full channel object;
        afterwards the channel's routes answer 404/10003 Unknown Channel."""
        payload = self._state.payloads.channel(channel)
        self._world.delete_channel(channel)
        self._state.hub.dispatch(
            "CHANNEL_DELETE", payload, guild_id=channel.guild_id, intent=GUILDS
        )

    def revoke_channel_access(self, channel: FakeChannel) -> None:
        """A moderator denies the bot View Channel there: CHANNEL_UPDATE whose bot overwrite
        denies it; afterwards the channel's routes answer 403/50001 Missing Access."""
        channel.bot_permissions &= ~perms.VIEW_CHANNEL
        channel.bot_denied |= perms.VIEW_CHANNEL
        self._announce_channel(channel)

    def set_member_overwrite(
        self,
        channel: FakeChannel,
        member: FakeMember,
        *,
        allow: perms.PermissionsLike = 0,
        deny: perms.PermissionsLike = 0,
    ) -> None:
        """The member's permission overwrite in one channel (e.g. Manage Messages there only),
        announced as CHANNEL_UPDATE like Discord does."""
        channel.member_overwrites[member.id] = (perms.as_int(allow), perms.as_int(deny))
        self._announce_channel(channel)

    def _announce_channel(self, channel: FakeChannel) -> None:
        self._state.hub.dispatch(
            "CHANNEL_UPDATE",
            self._state.payloads.channel(channel),
            guild_id=channel.guild_id,
            intent=GUILDS,
        )

    # driving users ---------------------------------------------------------------------

    async def wait_until_ready(self, timeout: float = 10.0, *, new: bool = False) -> GatewaySession:
        """Until a connected bot has IDENTIFYed and been sent READY + every GUILD_CREATE.
        ``new=True`` waits for a READY after this call (a restarted bot)."""
        return await self._state.hub.wait_until_ready(timeout, new=new)

    async def invoke_slash(
        self,
        channel: FakeChannel,
        member: FakeMember,
        name: str,
        *,
        subcommand: str | None = None,
        options: Mapping[str, OptionValue] | None = None,
    ) -> FakeInteraction:
        """A user runs ``/name [group] subcommand option:value...`` (type 2).

        ``subcommand`` is ``"generate"`` or ``"group generate"``; option values are checked
        against the synced command (types, choices, ranges, required) as Discord's UI would.
        """
        data = self._state.invocations.command_data(
            channel, member, name, subcommand, options or {}
        )
        return self._dispatch(
            APPLICATION_COMMAND,
            channel,
            member,
            data,
            command_name=_command_label(name, subcommand),
        )

    async def autocomplete(
        self,
        channel: FakeChannel,
        member: FakeMember,
        name: str,
        *,
        focused: str,
        subcommand: str | None = None,
        options: Mapping[str, OptionValue] | None = None,
        timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        """A user types in option ``focused`` (type 4); returns the bot's choices."""
        data = self._state.invocations.command_data(
            channel, member, name, subcommand, options or {}, focused=focused
        )
        interaction = self._dispatch(
            AUTOCOMPLETE, channel, member, data, command_name=_command_label(name, subcommand)
        )
        await interaction.wait_ack(timeout or self.config.ack_deadline + 1.0)
        return list(interaction.choices or [])

    async def click_button(
        self, message: FakeMessage | int, custom_id: str, member: FakeMember
    ) -> FakeInteraction:
        """A user clicks a button (type 3) that is present and enabled on the message now."""
        return self._component(message, custom_id, member, None)

    async def select_menu(
        self, message: FakeMessage | int, custom_id: str, member: FakeMember, values: Sequence[str]
    ) -> FakeInteraction:
        """A user picks ``values`` in a select menu on the message (type 3)."""
        return self._component(message, custom_id, member, values)

    async def submit_modal(
        self,
        interaction: FakeInteraction,
        values: Mapping[str, str | Sequence[str]],
        member: FakeMember | None = None,
    ) -> FakeInteraction:
        """The user submits the modal the bot opened on ``interaction`` (type 5); ``values``
        maps input custom ids to text (or select values)."""
        modal = interaction.modal
        if modal is None:
            raise FakeDiscordUsageError(f"interaction {interaction.id} did not open a modal")
        member = member or interaction.member
        if member is None or member.user is not interaction.user:
            raise FakeDiscordUsageError("only the user the modal was shown to can submit it")
        data = self._state.invocations.modal_data(modal, values)
        return self._dispatch(
            MODAL_SUBMIT,
            interaction.channel,
            member,
            data,
            message=interaction.message,
            opened_by=interaction,
        )

    async def post_user_message(
        self, channel: FakeChannel, member: FakeMember, content: str
    ) -> FakeMessage:
        """A member writes in the channel (MESSAGE_CREATE to the bot), e.g. to be replied to."""
        return self._state.messenger.create(
            channel, member.user, MessageDraft(content=content), flags=0
        )

    def _component(
        self,
        message: FakeMessage | int,
        custom_id: str,
        member: FakeMember,
        values: Sequence[str] | None,
    ) -> FakeInteraction:
        found = self._resolve_message(message)
        if found.deleted:
            raise FakeDiscordUsageError(f"message {found.id} was deleted; nobody can click it")
        if found.ephemeral:
            owner = self._state.interactions.by_id.get(found.interaction_id or 0)
            if owner is None or owner.user is not member.user:
                raise FakeDiscordUsageError("an ephemeral message is only visible to its user")
        data = self._state.invocations.component_data(found, custom_id, values)
        return self._dispatch(MESSAGE_COMPONENT, found.channel, member, data, message=found)

    def _dispatch(
        self,
        kind: int,
        channel: FakeChannel,
        member: FakeMember,
        data: dict[str, Any],
        *,
        command_name: str | None = None,
        message: FakeMessage | None = None,
        opened_by: FakeInteraction | None = None,
    ) -> FakeInteraction:
        state = self._state
        if not state.hub.receivers(channel.guild_id):
            raise FakeDiscordUsageError(
                "no bot is connected to the gateway to receive this"
                + (" (none on this server's shard)" if state.hub.live_sessions() else "")
            )
        if self._world.channel(channel.id) is None or self._world.is_departed(channel):
            raise FakeDiscordUsageError(f"#{channel.name} is gone or the bot left its guild")
        payload = state.invocations.envelope(kind, channel, member)
        payload["data"] = data
        if message is not None:
            payload["message"] = state.messenger.render(message)
        now = time.monotonic()
        interaction = FakeInteraction(
            id=int(payload["id"]),
            token=payload["token"],
            type=kind,
            channel=channel,
            member=member,
            user=member.user,
            payload=payload,
            dispatched_at=now,
            token_expires_at=now + self.config.token_lifetime,
            attachment_size_limit=payload["attachment_size_limit"],
            command_name=command_name,
            message=message,
            opened_by=opened_by,
        )
        state.interactions.add(interaction)
        state.hub.dispatch("INTERACTION_CREATE", payload, guild_id=channel.guild_id)
        return interaction

    # records ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return self._state.requests

    @property
    def errors(self) -> list[ErrorRecord]:
        """Every 4xx answered (including 429s, whose ``code`` is ``None``)."""
        return self._state.errors

    @property
    def unknown_routes(self) -> list[RequestRecord]:
        return self._state.unknown_routes

    @property
    def rate_limited_count(self) -> int:
        return self._state.rate_limited_count

    @property
    def channel_bucket_exhausted(self) -> int:
        """Channel-message requests that used up their bucket: the client must wait next."""
        return self._state.channel_bucket_exhausted

    @property
    def interactions(self) -> list[FakeInteraction]:
        return self._state.interactions.all()

    @property
    def command_syncs(self) -> list[SyncRecord]:
        return self._state.commands.syncs

    @property
    def sessions(self) -> list[GatewaySession]:
        """Gateway sessions currently connected."""
        return self._state.hub.live_sessions()

    @property
    def resume_count(self) -> int:
        return self._state.hub.resume_count

    def registered_commands(self, guild: FakeGuild | None = None) -> list[dict[str, Any]]:
        return self._state.commands.in_scope(guild.id if guild else None)

    def message(self, message_id: int) -> FakeMessage:
        found = self._state.store.get(message_id)
        if found is None:
            raise KeyError(f"no message {message_id}")
        return found

    def channel_messages(
        self,
        channel: FakeChannel,
        *,
        include_deleted: bool = False,
        include_ephemeral: bool = True,
    ) -> list[FakeMessage]:
        """Messages in the channel, oldest first (interaction responses included)."""
        return self._state.store.channel(
            channel.id, include_deleted=include_deleted, include_ephemeral=include_ephemeral
        )

    async def wait_for_message(
        self,
        channel: FakeChannel,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float = 5.0,
    ) -> FakeMessage:
        """The first live message in the channel whose current state matches — an existing
        one right away, else the next created or edited one that does."""
        return await self._state.store.wait_in_channel(
            channel.id, predicate or (lambda _: True), timeout
        )

    async def wait_for_edit(
        self,
        message: FakeMessage | int,
        predicate: Callable[[FakeMessage], bool],
        timeout: float = 5.0,
    ) -> FakeMessage:
        """The message once its current state matches (immediately if it already does)."""
        message_id = message.id if isinstance(message, FakeMessage) else message
        return await self._state.store.wait_on_message(message_id, predicate, timeout)

    def on_message_created(self, callback: Callable[[FakeMessage], None]) -> None:
        """Call ``callback`` with every message as it is created (any channel, any author),
        synchronously, so a benchmark can timestamp arrivals exactly."""
        self._state.store.add_listener(callback)

    def pings(self, message: FakeMessage) -> Pings:
        """Who got notified when the message was sent (edits never notify in Discord)."""
        return message.pings or Pings()

    def mentions_pinged(self, message: FakeMessage) -> set[int]:
        """User ids, role ids, and the guild id (= @everyone role) for @everyone/@here that
        the message pinged, per its content, ``allowed_mentions`` and the author's rights."""
        return self.pings(message).ids(message.guild_id)

    # faults and moderator actions ------------------------------------------------------

    def set_outage(self, enabled: bool = True, *, status: int = 503) -> None:
        """Channel message routes answer ``status`` (503: discord.py raises at once; 500/502
        make it retry 5 times with 1-9 s sleeps first)."""
        self._state.outage_status = status if enabled else None

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

    def _resolve_message(self, message: FakeMessage | int) -> FakeMessage:
        return message if isinstance(message, FakeMessage) else self.message(message)


def _command_label(name: str, subcommand: str | None) -> str:
    return f"{name} {subcommand}" if subcommand else name
