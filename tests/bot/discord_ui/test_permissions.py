"""The permission rules as one table: who may cancel, delete, or change settings."""

from __future__ import annotations

import discord
import pytest

from bot.discord_ui.permissions import Actor, JobAction, is_moderator, may, may_change_settings

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
    # actor:                     cancel, re-roll, edit, delete, settings
    "requester": (True, True, True, True, False),
    "moderator by permission": (True, True, True, True, False),
    "moderator by role": (True, True, True, True, False),
    "other member": (False, True, True, False, False),
    "server manager": (False, True, True, False, True),
}
COLUMNS = [JobAction.CANCEL, JobAction.REROLL, JobAction.EDIT, JobAction.DELETE, "settings"]


@pytest.mark.parametrize("actor_name", TABLE)
@pytest.mark.parametrize("column", range(len(COLUMNS)))
def test_permission_table(actor_name: str, column: int) -> None:
    action, actor = COLUMNS[column], ACTORS[actor_name]
    if isinstance(action, JobAction):
        allowed = may(action, actor, owner_id=OWNER, moderator_role_ids={MOD_ROLE})
    else:
        allowed = may_change_settings(actor)
    assert allowed is TABLE[actor_name][column]


def test_moderator_roles_come_from_settings() -> None:
    by_role = ACTORS["moderator by role"]
    assert is_moderator(by_role, {MOD_ROLE})
    assert not is_moderator(by_role, set())


def test_in_an_unknown_channel_only_the_requester_may_act() -> None:
    unknown = Actor(3, frozenset({MOD_ROLE}), None)
    assert not is_moderator(unknown, {MOD_ROLE})
    assert not may(JobAction.CANCEL, unknown, owner_id=OWNER, moderator_role_ids={MOD_ROLE})
    requester = Actor(OWNER, frozenset(), None)
    assert may(JobAction.CANCEL, requester, owner_id=OWNER, moderator_role_ids={MOD_ROLE})
