"""Private answers to a member, and the one way every failure is answered.

Commands, buttons, select menus and modals all end here when something raises: the
member gets a private, plain sentence (never a stuck "…is thinking"), the log gets the
traceback. They all pass one check first: while the bot is stopping (SIGTERM, Ctrl-C)
it takes no new work, and says so.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.i18n import texts
from bot.log_context import bind

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "reply.something_went_wrong"
"""The catalog key of the one answer to every failure."""
RESTARTING = "reply.restarting"
"""The catalog key of the answer to anything asked while the bot is stopping."""


async def reply(interaction: discord.Interaction, text: str, **extra: Any) -> None:
    """A private answer, whether or not the interaction was already acknowledged."""
    if interaction.response.is_done():
        await interaction.edit_original_response(content=text, **extra)
    else:
        await interaction.response.send_message(text, ephemeral=True, **extra)


async def answer_failure(interaction: discord.Interaction, error: BaseException, what: str) -> None:
    """Log `error` and tell the member, privately, that it was our fault."""
    log.error("%s failed", what, exc_info=error)
    text = texts(interaction.locale)(SOMETHING_WENT_WRONG)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell the member about the error")


async def taken(interaction: discord.Interaction) -> bool:
    """Whether the bot takes this interaction: not while it is stopping (a member is told
    to try again in a minute; an autocomplete gets no choices). One it takes is under way
    until answered: a stop lets it finish. The log lines of its handling name its server."""
    bind(server_id=interaction.guild_id)
    client = interaction.client
    if not getattr(client, "stopping", False):
        answering = getattr(client, "answering", None)
        if callable(answering):
            answering()
        return True
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        elif not interaction.response.is_done():
            text = texts(interaction.locale)(RESTARTING)
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as error:
        log.info("could not tell a member the bot is restarting: %s", error)
    return False


class AnsweringTree(app_commands.CommandTree[Any]):
    """Every slash command and autocomplete failure is answered the same way."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await taken(interaction)

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        name = interaction.command.qualified_name if interaction.command else "a command"
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await answer_failure(interaction, cause, f"command {name!r}")


class AnsweringView(discord.ui.View):
    """A view whose buttons and menus answer failures like commands do."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await taken(interaction)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await answer_failure(interaction, error, f"{type(self).__name__} item {item!r}")


class AnsweringModal(discord.ui.Modal):
    """A form whose submit answers failures like commands do."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await taken(interaction)

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows it so too
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await answer_failure(interaction, error, f"form {type(self).__name__}")
