"""The permission rules as one table: who may cancel, delete, or change settings."""

from __future__ import annotations

import discord
import pytest

from bot.discord_ui.permissions import Action, Actor, is_moderator, may

OWNER = 1
MOD_ROLE = 900
PLAIN = discord.Permissions(send_messages=True, view_channel=True)

ACTORS = {
    "requester": Actor(OWNER, frozenset(), PLAIN),
    "moderator by permission": Actor(
        2, frozenset(), PLAIN | discord.Permissions(manage_messages=True)
    ),
    "moderator by role": Actor(3, frozenset({MOD_ROLE}), PLAIN),
    "other member": Actor(4, frozenset({555}), PLAIN),
    "server manager": Actor(5, frozenset(), PLAIN | discord.Permissions(manage_guild=True)),
}

TABLE = {
    # actor:                     cancel, delete, settings
    "requester": (True, True, False),
    "moderator by permission": (True, True, False),
    "moderator by role": (True, True, False),
    "other member": (False, False, False),
    "server manager": (False, False, True),
}


@pytest.mark.parametrize("actor_name", TABLE)
@pytest.mark.parametrize(
    ("action", "column"), [(Action.CANCEL, 0), (Action.DELETE, 1), (Action.SETTINGS, 2)]
)
def test_permission_table(actor_name: str, action: Action, column: int) -> None:
    allowed = may(
        action,
        ACTORS[actor_name],
        owner_id=None if action is Action.SETTINGS else OWNER,
        moderator_role_ids={MOD_ROLE},
    )
    assert allowed is TABLE[actor_name][column]


def test_moderator_roles_come_from_settings() -> None:
    by_role = ACTORS["moderator by role"]
    assert is_moderator(by_role, {MOD_ROLE})
    assert not is_moderator(by_role, set())
