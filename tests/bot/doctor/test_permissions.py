"""The doctor's reading of Discord's permissions, and of the bot's commands and intents."""

from __future__ import annotations

import discord

from bot.doctor.discord_side import intents_finding, shape_of
from bot.doctor.permissions import (
    ADMINISTRATOR,
    ATTACH_FILES,
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    channel_permissions,
    missing,
)

GUILD, OWNER, BOT, ROLE = 1, 2, 3, 4
NEEDED = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | SEND_MESSAGES_IN_THREADS
    | CREATE_PUBLIC_THREADS
)


def overwrite(target: int, kind: int, *, allow: int = 0, deny: int = 0) -> dict[str, object]:
    return {"id": str(target), "type": kind, "allow": str(allow), "deny": str(deny)}


def permissions_of(
    *, everyone: int = 0, role: int = 0, roles: tuple[int, ...] = (ROLE,), overwrites=()
) -> int:
    return channel_permissions(
        guild_id=GUILD,
        owner_id=OWNER,
        member_id=BOT,
        member_roles=roles,
        roles={GUILD: everyone, ROLE: role},
        overwrites=overwrites,
    )


def test_the_role_grants_what_the_bot_needs() -> None:
    assert missing(permissions_of(role=NEEDED)) == []


def test_an_everyone_deny_is_lifted_by_the_role_allow_and_the_member_overwrite_wins() -> None:
    denied = [overwrite(GUILD, 0, deny=ATTACH_FILES | EMBED_LINKS)]
    assert missing(permissions_of(role=NEEDED, overwrites=denied)) == [
        "Embed Links",
        "Attach Files",
    ]
    lifted = [*denied, overwrite(ROLE, 0, allow=ATTACH_FILES)]
    assert missing(permissions_of(role=NEEDED, overwrites=lifted)) == ["Embed Links"]
    member = [*lifted, overwrite(BOT, 1, allow=EMBED_LINKS, deny=READ_MESSAGE_HISTORY)]
    assert missing(permissions_of(role=NEEDED, overwrites=member)) == ["Read Message History"]


def test_without_view_channel_nothing_and_without_send_no_embeds_or_files() -> None:
    assert permissions_of(role=NEEDED & ~VIEW_CHANNEL) == 0
    no_send = permissions_of(role=NEEDED & ~SEND_MESSAGES)
    assert missing(no_send) == ["Send Messages", "Embed Links", "Attach Files"]


def test_administrator_and_the_owner_have_everything_whatever_the_overwrites() -> None:
    denied = [overwrite(BOT, 1, deny=NEEDED)]
    assert missing(permissions_of(role=ADMINISTRATOR, overwrites=denied)) == []
    owner = channel_permissions(
        guild_id=GUILD, owner_id=BOT, member_id=BOT, member_roles=(), roles={}, overwrites=denied
    )
    assert missing(owner) == []


def test_a_role_the_bot_does_not_have_changes_nothing() -> None:
    others = [overwrite(ROLE, 0, allow=NEEDED)]
    assert missing(permissions_of(roles=(), overwrites=others)) == [
        "View Channel",
        "Send Messages",
        "Embed Links",
        "Attach Files",
        "Read Message History",
        "Send Messages in Threads",
        "Create Public Threads (for /session)",
    ]


def test_a_channel_without_threads_is_named_for_sessions() -> None:
    """Everything but Create Public Threads: videos work, prompt sessions cannot start."""
    denied = [overwrite(GUILD, 0, deny=CREATE_PUBLIC_THREADS)]
    assert missing(permissions_of(role=NEEDED, overwrites=denied)) == [
        "Create Public Threads (for /session)"
    ]


def test_intents_asked_for_must_be_switched_on_full_or_limited() -> None:
    reading = discord.Intents.none()
    reading.message_content = True
    assert not intents_finding(reading, 0).ok
    assert intents_finding(reading, 1 << 19).ok, "the limited switch counts"
    assert intents_finding(reading, 1 << 18).ok
    assert intents_finding(discord.Intents(guilds=True), 0).ok, "none asked for"


def test_commands_compare_by_names_types_and_options_not_texts() -> None:
    ours = [{"name": "video", "type": 1, "options": [{"name": "generate", "type": 1}]}]
    theirs = [
        {
            "id": "1",
            "name": "video",
            "description": "old words",
            "options": [{"name": "generate", "type": 1, "description": "x"}],
        }
    ]
    assert shape_of(ours) == shape_of(theirs)
    renamed = [{"name": "video", "options": [{"name": "make", "type": 1}]}]
    assert shape_of(ours) != shape_of(renamed)
