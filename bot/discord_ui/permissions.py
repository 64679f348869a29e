"""Who may do what to a job: the one place the bot's permission rules live."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import discord


class JobAction(StrEnum):
    """What a member can do to a job; the buttons carry these names in their custom ids."""

    CANCEL = "cancel"
    REROLL = "reroll"
    EDIT = "edit"
    """Edit & re-roll: the form, pre-filled, that makes a new job."""
    DELETE = "delete"
    VIEW = "view"
    """Look at someone's job with `/video status job:` or find it in autocomplete."""


@dataclass(frozen=True, slots=True)
class Actor:
    """The member pressing a button or running a command, as Discord described them."""

    user_id: int
    role_ids: frozenset[int]
    permissions: discord.Permissions | None
    """In the channel the action is about; None when the bot does not know that channel."""

    @classmethod
    def from_interaction(cls, interaction: discord.Interaction) -> Actor:
        """With the permissions where the interaction happened: for server-wide matters."""
        user = interaction.user
        roles = user.roles if isinstance(user, discord.Member) else []
        return cls(
            user_id=user.id,
            role_ids=frozenset(role.id for role in roles),
            permissions=interaction.permissions,
        )

    @classmethod
    def in_channel(cls, interaction: discord.Interaction, channel_id: int) -> Actor:
        """With the permissions in `channel_id` (a job's channel), wherever the member typed:
        Manage Messages in one channel must not make a member a moderator everywhere."""
        actor = cls.from_interaction(interaction)
        if interaction.channel_id == channel_id:
            return actor  # Discord computed these for exactly that channel
        user = interaction.user
        guild = interaction.guild
        permissions = None
        if isinstance(user, discord.Member) and guild is not None:
            permissions = permissions_in(guild, channel_id, user)
        return cls(actor.user_id, actor.role_ids, permissions)


def permissions_in(
    guild: discord.Guild, channel_id: int, member: discord.Member
) -> discord.Permissions | None:
    """The member's permissions in a cached channel (a thread's are its parent's), or None."""
    channel = guild.get_channel_or_thread(channel_id)
    if isinstance(channel, discord.Thread):
        channel = channel.parent
    if channel is None:
        return None
    return channel.permissions_for(member)


def is_moderator(actor: Actor, moderator_role_ids: Iterable[int]) -> bool:
    """Manage Messages in the channel, or one of the configured moderator roles; nobody is a
    moderator of a channel the bot does not know."""
    if actor.permissions is None:
        return False
    return actor.permissions.manage_messages or bool(actor.role_ids & set(moderator_role_ids))


def may(
    action: JobAction,
    actor: Actor,
    *,
    owner_id: int,
    moderator_role_ids: Iterable[int],
) -> bool:
    """Whether `actor` may do `action` to a job of `owner_id`: anyone may re-roll, edited or
    not (on their own quota); cancel, delete and looking at it are for the requester and
    moderators."""
    if action in (JobAction.REROLL, JobAction.EDIT) or actor.user_id == owner_id:
        return True
    return is_moderator(actor, moderator_role_ids)


def may_host(
    actor: Actor, *, moderator_role_ids: Iterable[int], host_role_ids: Iterable[int]
) -> bool:
    """Who may start a prompt session in a channel: its moderators, and the server's
    session hosts."""
    return is_moderator(actor, moderator_role_ids) or bool(actor.role_ids & set(host_role_ids))


def may_run_session(actor: Actor, *, host_id: int, moderator_role_ids: Iterable[int]) -> bool:
    """Who may end or cancel a session, or remove an entry: its host, and the moderators of
    its channel."""
    return actor.user_id == host_id or is_moderator(actor, moderator_role_ids)


def may_change_settings(actor: Actor) -> bool:
    return actor.permissions is not None and actor.permissions.manage_guild


REFUSALS = {
    JobAction.CANCEL: "refusal.cancel",
    JobAction.DELETE: "refusal.delete",
}
"""The catalog key of each refusal."""
SETTINGS_REFUSAL = "refusal.settings"
