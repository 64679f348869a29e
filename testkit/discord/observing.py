"""What the bot did, as the fake saw it: requests, errors, interactions, command syncs,
sessions, messages (and waits for them) and who each message pinged."""

# Waits take an explicit ``timeout`` so a failing test names what it waited for.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .commands import SyncRecord
from .gateway import GatewaySession
from .interactions import FakeInteraction
from .mentions import Pings
from .records import ErrorRecord, FakeMessage, RequestRecord
from .state import FakeState
from .world import FakeChannel, FakeGuild, FakeUser


class Observing:
    """``FakeDiscord``'s records and waits."""

    _state: FakeState

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

    def direct_messages(self, user: FakeUser) -> list[FakeMessage]:
        """What the bot wrote to the user in their direct messages, oldest first."""
        return self.channel_messages(self._state.world.dm_channel(user))

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
