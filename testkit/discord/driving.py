"""Driving users: the interactions and messages a member's Discord client would send,
checked against what the bot registered and shows, then dispatched to the bot."""

# Waits take an explicit ``timeout`` so a failing test names what it waited for.
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from . import permissions as perms
from .drafts import MessageDraft
from .errors import FakeDiscordUsageError
from .gateway import GatewaySession
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    FakeInteraction,
)
from .invocations import OptionValue
from .records import FakeMessage
from .state import FakeConfig, FakeState
from .world import FakeChannel, FakeMember, World


class UserDriving:
    """``FakeDiscord``'s methods that act as the members (and wait for the bot's READY)."""

    config: FakeConfig
    _state: FakeState
    _world: World

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
        """A member writes in the channel or thread (MESSAGE_CREATE to the bot), e.g. to be
        replied to; a post in an archived thread unarchives it, a locked one refuses it."""
        manages = perms.has(member.permissions_in(channel), perms.MANAGE_THREADS)
        if channel.thread is not None and channel.thread.locked and not manages:
            raise FakeDiscordUsageError(f"#{channel.name} is locked")
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
        guild = channel.guild
        if guild is not None and guild.members.get(member.user.id) is not member:
            raise FakeDiscordUsageError(f"{member.user.username} is not a member of {guild.name}")
        if channel.archived and kind in (APPLICATION_COMMAND, AUTOCOMPLETE):
            raise FakeDiscordUsageError(
                f"#{channel.name} is archived: members cannot use application commands there"
            )
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

    def _resolve_message(self, message: FakeMessage | int) -> FakeMessage:
        if isinstance(message, FakeMessage):
            return message
        found = self._state.store.get(message)
        if found is None:
            raise KeyError(f"no message {message}")
        return found


def _command_label(name: str, subcommand: str | None) -> str:
    return f"{name} {subcommand}" if subcommand else name
