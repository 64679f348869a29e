"""`/video block`, `/video unblock` and `/video strikes`: moderators bar a member for a
while and look after their strikes. The work is the bot's `ModerationDesk`; these are
attached under `/video` while the extension is loaded (see `VideoCog.cog_load`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_ui.moderation import ModerationDesk
from bot.policy.members import BLOCK_DAYS_MAX, REASON_MAX_CHARS

if TYPE_CHECKING:
    from bot.app import VideoBot

SHOW_OR_CLEAR = [
    app_commands.Choice(name="show", value="show"),
    app_commands.Choice(name="clear", value="clear"),
]


def desk_of(interaction: discord.Interaction) -> ModerationDesk:
    desk = getattr(interaction.client, "moderation", None)
    if not isinstance(desk, ModerationDesk):
        raise RuntimeError("the bot has no moderation desk yet")
    return desk


def moderation_commands() -> tuple[app_commands.Command[Any, ..., None], ...]:
    """New command objects for each bot (several bots may run in one process: in tests)."""

    @app_commands.command(name="block", description="Stop a member from making videos for a while")
    @app_commands.describe(
        member="The member",
        days=f"For how many days (1–{BLOCK_DAYS_MAX:,})",
        reason="Why (the member reads it)",
        cancel_waiting="Also cancel their videos that have not started generating",
    )
    async def block(
        interaction: discord.Interaction,
        member: discord.Member,
        days: app_commands.Range[int, 1, BLOCK_DAYS_MAX],
        reason: app_commands.Range[str, 1, REASON_MAX_CHARS] | None = None,
        cancel_waiting: bool = False,
    ) -> None:
        await desk_of(interaction).block(
            interaction, member, days=days, reason=reason, cancel_waiting=cancel_waiting
        )

    @app_commands.command(name="unblock", description="Let a blocked member make videos again")
    @app_commands.describe(member="The member")
    async def unblock(interaction: discord.Interaction, member: discord.Member) -> None:
        await desk_of(interaction).unblock(interaction, member)

    @app_commands.command(name="strikes", description="A member's videos refused for their content")
    @app_commands.describe(member="The member", action="Show them (default) or clear them")
    @app_commands.choices(action=SHOW_OR_CLEAR)
    async def strikes(
        interaction: discord.Interaction,
        member: discord.Member,
        action: app_commands.Choice[str] | None = None,
    ) -> None:
        clear = action is not None and action.value == "clear"
        await desk_of(interaction).strikes(interaction, member, clear=clear)

    return (block, unblock, strikes)


class ModerationCog(commands.Cog, name="Moderation"):
    """Adds the moderators' commands to `/video` while loaded, and takes them away."""

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.video_commands = moderation_commands()

    def _video_group(self) -> app_commands.Group | None:
        command = self.bot.tree.get_command("video")
        return command if isinstance(command, app_commands.Group) else None

    async def cog_load(self) -> None:
        group = self._video_group()
        if group is None:
            return
        for command in self.video_commands:
            if group.get_command(command.name) is None:
                group.add_command(command)

    async def cog_unload(self) -> None:
        group = self._video_group()
        if group is not None:
            for command in self.video_commands:
                group.remove_command(command.name)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(ModerationCog(bot))
