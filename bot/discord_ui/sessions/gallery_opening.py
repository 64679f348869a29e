"""Opening a session's gallery: the card in the channel, a public thread from it, both
recorded on the session; or, when any step fails, nothing left behind."""

from __future__ import annotations

import contextlib
from typing import Literal

import discord

from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.sessions.cards import thread_name
from bot.discord_ui.sessions.herald import DiscordHerald
from bot.jobs.ports import StoreError
from bot.sessions.model import Session
from bot.sessions.service import Sessions

GALLERY_ARCHIVE_MINUTES: Literal[10080] = 10080
"""A week: a gallery stays open through any session (a post would reopen it anyway)."""
GALLERY_PERMISSIONS = (
    "view_channel",
    "send_messages",
    "embed_links",
    "attach_files",
    "read_message_history",
    "create_public_threads",
    "send_messages_in_threads",
)
"""What the bot needs in a session's channel: the card, its thread, the videos in it, and
reading back what it posted (a recap after a crash)."""


class GalleryNotKept(Exception):
    """The card and thread were made but could not be recorded (they are taken down)."""


async def open_gallery(
    channel: discord.TextChannel,
    session: Session,
    *,
    sessions: Sessions,
    herald: DiscordHerald,
    outbox: ChannelOutbox,
) -> Session:
    """The session with its card and thread; raises `discord.HTTPException` (Discord
    refused a step), `StoreError` (the card's numbers could not be read) or
    `GalleryNotKept`, with whatever was posted taken down."""
    view, _ = await herald.card(session)

    async def post() -> discord.Message:
        return await channel.send(view=view, allowed_mentions=discord.AllowedMentions.none())

    card = await outbox.send(channel.id, post)
    try:
        thread = await card.create_thread(
            name=thread_name(session.theme), auto_archive_duration=GALLERY_ARCHIVE_MINUTES
        )
    except discord.HTTPException:
        await _take_down(card)
        raise
    try:
        opened = await sessions.gallery_opened(session, card=card.id, thread=thread.id)
    except StoreError:
        opened = None
    if opened is None:
        await _take_down(card, thread)
        raise GalleryNotKept(session.id)
    herald.session_changed(opened)
    return opened


async def _take_down(card: discord.Message, thread: discord.Thread | None = None) -> None:
    """Undo a gallery that never was: the thread goes (deleting needs Manage Threads; its
    creator may at least archive it), then the card."""
    if thread is not None:
        try:
            await thread.delete()
        except discord.HTTPException:
            with contextlib.suppress(discord.HTTPException):
                await thread.edit(archived=True)
    with contextlib.suppress(discord.HTTPException):
        await card.delete()
