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
    DELETE = "delete"


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
    action: JobAction,
    actor: Actor,
    *,
    owner_id: int,
    moderator_role_ids: Iterable[int],
) -> bool:
    """Whether `actor` may do `action` to a job of `owner_id`: anyone may re-roll (on their
    own quota); cancel and delete are for the requester and moderators."""
    if action is JobAction.REROLL or actor.user_id == owner_id:
        return True
    return is_moderator(actor, moderator_role_ids)


def may_change_settings(actor: Actor) -> bool:
    return actor.permissions.manage_guild


REFUSALS = {
    JobAction.CANCEL: "Only the person who asked for this video or a moderator can cancel it.",
    JobAction.DELETE: "Only the person who asked for this video or a moderator can delete it.",
}
SETTINGS_REFUSAL = "Only members with the Manage Server permission can change these settings."
