"""Permission bits the fake enforces, and the defaults it grants."""

from __future__ import annotations

import discord

CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38

ALL = discord.Permissions.all().value

DEFAULT_BOT = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY
DEFAULT_MEMBER = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | EMBED_LINKS
    | ATTACH_FILES
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
    | CREATE_INSTANT_INVITE
)

THREADS = CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS
"""What a bot needs beside ``DEFAULT_BOT`` to open a public thread and post in it."""

PermissionsLike = discord.Permissions | int


def as_int(perms: PermissionsLike) -> int:
    return perms.value if isinstance(perms, discord.Permissions) else int(perms)


def effective(perms: int) -> int:
    """Administrator implies every permission, as in Discord's permission computation."""
    return ALL if perms & ADMINISTRATOR else perms


def has(perms: int, needed: int) -> bool:
    return effective(perms) & needed == needed


def in_thread(parent: int) -> int:
    """Permissions in a thread, from those in its parent channel, as Discord (and discord.py's
    ``Thread.permissions_for``) derive them: without Send Messages in Threads one cannot embed
    links, attach files, speak TTS or mention everyone there; without View Channel, nothing.
    Send Messages itself has no effect in a thread."""
    perms = effective(parent)
    if not perms & SEND_MESSAGES_IN_THREADS:
        perms &= ~(SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES)
    return perms if perms & VIEW_CHANNEL else 0
