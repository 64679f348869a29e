"""Who may do what to a job: the one place the bot's permission rules live."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import discord


class Action(StrEnum):
    CANCEL = "cancel"
    DELETE = "delete"
    SETTINGS = "settings"


@dataclass(frozen=True, slots=True)
class Actor:
    """The member pressing a button or running a command, as Discord described them."""

    user_id: int
    role_ids: frozenset[int]
    permissions: discord.Permissions

    @classmethod
    def from_interaction(cls, interaction: discord.Interaction) -> Actor:
        user = interaction.user
        roles = user.roles if isinstance(user, discord.Member) else []
        return cls(
            user_id=user.id,
            role_ids=frozenset(role.id for role in roles),
            permissions=interaction.permissions,
        )


def is_moderator(actor: Actor, moderator_role_ids: Iterable[int]) -> bool:
    """Manage Messages in the channel, or one of the configured moderator roles."""
    return actor.permissions.manage_messages or bool(actor.role_ids & set(moderator_role_ids))


def may(
    action: Action,
    actor: Actor,
    *,
    owner_id: int | None,
    moderator_role_ids: Iterable[int],
) -> bool:
    """Whether `actor` may do `action`; `owner_id` is the job's requester (None for settings)."""
    if action is Action.SETTINGS:
        return actor.permissions.manage_guild
    if owner_id is not None and actor.user_id == owner_id:
        return True
    return is_moderator(actor, moderator_role_ids)


REFUSALS = {
    Action.CANCEL: "Only the person who asked for this video or a moderator can cancel it.",
    Action.DELETE: "Only the person who asked for this video or a moderator can delete it.",
    Action.SETTINGS: "Only members with the Manage Server permission can change these settings.",
}
