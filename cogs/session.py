"""`/session`: prompt sessions — start one in a channel, end its entries, cancel it, see
where it stands, the server's leaderboard, and a moderator's removal of an entry. The
work behind each command is the bot's `SessionDesk`; this is the command surface.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_ui.sessions.desk import SessionDesk, StartOptions
from bot.discord_ui.sessions.entry_card import VoteButton
from bot.sessions.model import (
    DEFAULT_ENTRIES_PER_MEMBER,
    DEFAULT_VOTE_MINUTES,
    ENTRIES_PER_MEMBER,
    ENTRY_MINUTES,
    THEME_MAX_CHARS,
    VOTE_MINUTES,
)

if TYPE_CHECKING:
    from bot.app import VideoBot


class SessionCog(commands.Cog, name="Sessions"):
    session = app_commands.Group(
        name="session", description="Prompt sessions: a theme, entries, votes", guild_only=True
    )

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot

    @property
    def desk(self) -> SessionDesk:
        return self.bot.session_side.desk

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(VoteButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(VoteButton)

    @session.command(name="start", description="Start a prompt session in this channel")
    @app_commands.describe(
        theme="What the videos should be about (up to 200 characters)",
        minutes="How long entries are open, in minutes (5–1,440)",
        vote_minutes="Voting after entries close, in minutes (0–1,440; default 10)",
        entries_per_member="Videos each member may enter (1–10; default 1)",
        budget="Dollars the entries may cost in all (by their estimates); leave out for none",
    )
    async def start(
        self,
        interaction: discord.Interaction,
        theme: app_commands.Range[str, 1, THEME_MAX_CHARS],
        minutes: app_commands.Range[int, ENTRY_MINUTES[0], ENTRY_MINUTES[1]],
        vote_minutes: app_commands.Range[int, VOTE_MINUTES[0], VOTE_MINUTES[1]] = (
            DEFAULT_VOTE_MINUTES
        ),
        entries_per_member: app_commands.Range[
            int, ENTRIES_PER_MEMBER[0], ENTRIES_PER_MEMBER[1]
        ] = DEFAULT_ENTRIES_PER_MEMBER,
        budget: app_commands.Range[float, 0.01, 100000.0] | None = None,
    ) -> None:
        options = StartOptions(theme, minutes, vote_minutes, entries_per_member, budget)
        await self.desk.start_asked(interaction, options)

    @session.command(name="end", description="Close the entries now; voting goes on")
    async def end(self, interaction: discord.Interaction) -> None:
        await self.desk.end_asked(interaction)

    @session.command(name="cancel", description="End the session without a recap")
    async def cancel(self, interaction: discord.Interaction) -> None:
        await self.desk.cancel_asked(interaction)

    @session.command(name="status", description="The session in this channel and your part in it")
    async def status(self, interaction: discord.Interaction) -> None:
        await self.desk.status_asked(interaction)

    @session.command(name="leaderboard", description="This server's top members in sessions")
    async def leaderboard(self, interaction: discord.Interaction) -> None:
        await self.desk.leaderboard_asked(interaction)

    @session.command(name="remove", description="Take an entry out of its session (moderators)")
    @app_commands.describe(entry="The entry's number (its video's #)")
    async def remove(self, interaction: discord.Interaction, entry: int) -> None:
        await self.desk.remove_asked(interaction, entry)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(SessionCog(bot))
