"""The bot's permissions in a channel, from what Discord's REST API says of the server,
the channel and the bot's member: Discord's own computation (base permissions from
@everyone and the member's roles, then the channel's overwrites: @everyone's, the roles',
the member's), so the doctor needs no gateway connection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL = (1 << 53) - 1

NEEDED = (
    (VIEW_CHANNEL, "View Channel"),
    (SEND_MESSAGES, "Send Messages"),
    (EMBED_LINKS, "Embed Links"),
    (ATTACH_FILES, "Attach Files"),
    (READ_MESSAGE_HISTORY, "Read Message History"),
    (SEND_MESSAGES_IN_THREADS, "Send Messages in Threads"),
    (CREATE_PUBLIC_THREADS, "Create Public Threads (for /session)"),
)
"""What the bot needs where it is used, as Discord names them: it answers and posts in
the channel (and in its threads, where a command may be used), with an embed and the
video attached, reads the history to find a video it posted before a crash, and opens a
prompt session's gallery as a public thread of the channel."""
NEEDS_SEND = EMBED_LINKS | ATTACH_FILES
"""Lost with Send Messages, as Discord implies."""


def channel_permissions(
    *,
    guild_id: int,
    owner_id: int,
    member_id: int,
    member_roles: Iterable[int],
    roles: Mapping[int, int],
    overwrites: Iterable[Mapping[str, Any]],
) -> int:
    """The member's permissions in the channel: `roles` maps role id → its permissions
    (@everyone's id is the server's), `overwrites` is the channel's list."""
    if member_id == owner_id:
        return ALL
    role_ids = set(member_roles)
    base = roles.get(guild_id, 0)
    for role_id in role_ids:
        base |= roles.get(role_id, 0)
    if base & ADMINISTRATOR:
        return ALL
    by_id = {int(o["id"]): o for o in overwrites}
    permissions = _apply(base, by_id.get(guild_id))
    allow = deny = 0
    for role_id in role_ids:
        overwrite = by_id.get(role_id)
        if overwrite is not None and int(overwrite.get("type", 0)) == 0:
            allow |= int(overwrite["allow"])
            deny |= int(overwrite["deny"])
    permissions = (permissions & ~deny) | allow
    member = by_id.get(member_id)
    if member is not None and int(member.get("type", 1)) == 1:
        permissions = _apply(permissions, member)
    if not permissions & VIEW_CHANNEL:
        return 0
    if not permissions & SEND_MESSAGES:
        permissions &= ~NEEDS_SEND
    return permissions


def _apply(permissions: int, overwrite: Mapping[str, Any] | None) -> int:
    if overwrite is None:
        return permissions
    return (permissions & ~int(overwrite["deny"])) | int(overwrite["allow"])


def missing(permissions: int) -> list[str]:
    """The needed permissions the bot lacks, by Discord's names."""
    return [name for bit, name in NEEDED if not permissions & bit]
