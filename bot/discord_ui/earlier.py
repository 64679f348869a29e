"""Finding a message the bot posted before a crash but never recorded (a video's notice,
a session's recap or entry), so it is not posted twice once Discord has forgotten its
nonce.

Asked for the messages *after* one, Discord answers the oldest hundred after it, so in a
busy channel a copy posted late is never reached. The search reads newest first instead,
down to the message the copy cannot be older than (the job's status card, the
session's card), and at most `SEARCH_LIMIT` messages: a copy is found unless that many were
posted after it before the search.
"""

from __future__ import annotations

import discord

from bot.discord_ui.result_card import layout_texts

SEARCH_LIMIT = 500
"""Five requests of Discord's hundred: a busy channel's chat over the few minutes before
another process takes a session over, with room to spare."""


async def find_mine(
    channel: discord.PartialMessageable,
    me: int,
    wanted: str,
    *,
    since: int,
    limit: int = SEARCH_LIMIT,
) -> int | None:
    """The newest message by `me` saying `wanted`, posted after the message (or any
    snowflake) `since`."""
    async for message in channel.history(
        after=discord.Object(since), limit=limit, oldest_first=False
    ):
        if message.author.id == me and wanted in message_text(message):
            return message.id
    return None


def message_text(message: discord.Message) -> str:
    """What a message says: its content, or its card's text displays."""
    return "\n".join([message.content, *layout_texts(message.components)])
