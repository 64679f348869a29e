"""A real discord.py bot that answers with Components V2 cards and works in threads, shaped
like the result cards and prompt-session galleries the product is about to send."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import discord
from discord import app_commands, ui

from .sample_bot import SampleBot


class VoteButton(ui.DynamicItem[ui.Button[Any]], template=r"entry:vote:(?P<id>\d+)"):
    """A Vote button that survives restarts; it sits in a container's row or a section."""

    def __init__(self, entry: int) -> None:
        super().__init__(ui.Button(label="Vote", custom_id=f"entry:vote:{entry}"))
        self.entry = entry

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str]
    ) -> VoteButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = interaction.client
        assert isinstance(bot, LayoutBot)
        bot.votes.append((self.entry, interaction.user.id, interaction.channel))
        await interaction.response.send_message(f"Vote for #{self.entry} counted.", ephemeral=True)


def result_card(
    video: Path, entry: int, mention: str, *, text: str = "a cat on a skateboard"
) -> tuple[ui.LayoutView, discord.File]:
    """Text, the video inline, a Vote button beside the prompt, and a row of buttons."""
    file = discord.File(video, filename="clip.mp4")
    view = ui.LayoutView(timeout=None)
    view.add_item(
        ui.Container(
            ui.TextDisplay(f"{mention} your video **#{entry}** is ready"),
            ui.MediaGallery(discord.MediaGalleryItem(file, description="the video")),
            ui.Section(ui.TextDisplay(text), accessory=VoteButton(entry)),
            ui.Separator(spacing=discord.SeparatorSpacing.large),
            ui.ActionRow(
                VoteButton(entry + 1000),
                ui.Button(label="Delete", custom_id=f"entry:delete:{entry}"),
            ),
            accent_colour=discord.Colour.blurple(),
        )
    )
    return view, file


class LayoutBot(SampleBot):
    """``/card how:<send|respond|followup|edit>``, ``/where`` and ``/gallery``."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.votes: list[tuple[int, int, Any]] = []
        self.cards: list[discord.Message] = []
        self.threads: list[discord.Thread] = []
        self.updated: list[discord.Message] = []
        self.card_text = "a cat on a skateboard"

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton)
        self.tree.add_command(card_command(self))
        self.tree.add_command(where_command(self))
        self.tree.add_command(gallery_command(self))
        await self.tree.sync()

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.updated.append(payload.message)

    def card(self, interaction: discord.Interaction) -> tuple[ui.LayoutView, discord.File]:
        assert self.render_path is not None
        return result_card(
            self.render_path, interaction.id % 1000, interaction.user.mention, text=self.card_text
        )


def card_command(bot: LayoutBot) -> app_commands.Command[Any, ..., None]:
    @app_commands.command(description="Send a result card")
    @app_commands.choices(
        how=[app_commands.Choice(name=n, value=n) for n in ("send", "respond", "followup", "edit")]
    )
    async def card(interaction: discord.Interaction, how: str) -> None:
        bot.interactions.append(interaction)
        view, file = bot.card(interaction)
        mentions = discord.AllowedMentions(users=[interaction.user], roles=False, everyone=False)
        try:
            if how == "respond":
                await interaction.response.send_message(
                    view=view, file=file, allowed_mentions=mentions
                )
                return
            await interaction.response.defer(ephemeral=how == "send")
            if how == "send":
                channel = interaction.channel
                assert isinstance(channel, discord.TextChannel | discord.Thread)
                sent = await channel.send(view=view, file=file, allowed_mentions=mentions)
                bot.cards.append(sent)
                await interaction.followup.send("Card sent.", ephemeral=True)
            elif how == "followup":
                sent = await interaction.followup.send(
                    view=view, file=file, allowed_mentions=mentions, wait=True
                )
                bot.cards.append(sent)
            else:
                edited = await interaction.edit_original_response(
                    view=view, attachments=[file], allowed_mentions=mentions
                )
                bot.cards.append(edited)
        except discord.HTTPException as exc:
            bot.failures.append(exc)

    return card


def where_command(bot: LayoutBot) -> app_commands.Command[Any, ..., None]:
    @app_commands.command(description="Say where this was invoked")
    async def where(interaction: discord.Interaction) -> None:
        bot.interactions.append(interaction)
        channel = interaction.channel
        kind = type(channel).__name__
        threads = interaction.app_permissions.send_messages_in_threads
        await interaction.response.send_message(f"{kind} {interaction.channel_id} {threads}")

    return where


def gallery_command(bot: LayoutBot) -> app_commands.Command[Any, ..., None]:
    @app_commands.command(description="Open a session gallery")
    async def gallery(interaction: discord.Interaction, theme: str) -> None:
        bot.interactions.append(interaction)
        try:
            await interaction.response.send_message(f"Session: {theme}")
            card = await interaction.original_response()
            thread = await card.create_thread(name=theme, auto_archive_duration=1440)
            bot.threads.append(thread)
            view, file = bot.card(interaction)
            bot.cards.append(await thread.send(view=view, file=file))
        except discord.HTTPException as exc:
            bot.failures.append(exc)

    return gallery
