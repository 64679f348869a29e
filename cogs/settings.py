"""`/video settings`: a server's own settings, for members with Manage Server.

Every setting, its range, label and default come from the one table in
`bot.server_settings`; a value out of range is refused with what is allowed, and
nothing is changed. The group is attached under `/video` (see `VideoCog.cog_load`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_ui.panels import settings_embed
from bot.discord_ui.permissions import SETTINGS_REFUSAL, Actor, may_change_settings
from bot.discord_ui.replies import reply
from bot.i18n import available_languages, language_name, texts
from bot.server_settings import SPECS, Setting, SettingValueError

if TYPE_CHECKING:
    from bot.app import VideoBot

ADD_OR_REMOVE = [
    app_commands.Choice(name="add", value="add"),
    app_commands.Choice(name="remove", value="remove"),
]
RESET_CHOICES = [app_commands.Choice(name="all", value="all")] + [
    app_commands.Choice(name=spec.label.lower(), value=spec.key.value) for spec in SPECS.values()
]
SERVER_LANGUAGE = "server"
"""The `language` choice that follows Discord's server language."""
LANGUAGE_CHOICES = [
    app_commands.Choice(name="Discord's server language", value=SERVER_LANGUAGE)
] + [app_commands.Choice(name=language_name(code), value=code) for code in available_languages()]


class SettingsCommands(app_commands.Group):
    """The `/video settings …` subcommands."""

    def __init__(self, bot: VideoBot) -> None:
        super().__init__(
            name="settings", description="This server's video settings (Manage Server)"
        )
        self.bot = bot

    async def change(self, interaction: discord.Interaction, *changes: tuple[Setting, Any]) -> None:
        """Only for Manage Server: every value is checked before any is stored; answers
        with the whole settings view, or what is allowed."""
        tr = texts(interaction.locale)
        if not may_change_settings(Actor.from_interaction(interaction)):
            await reply(interaction, tr(SETTINGS_REFUSAL))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        try:
            checked = [(setting, SPECS[setting].check(value, tr)) for setting, value in changes]
        except SettingValueError as error:
            await reply(interaction, tr("settings.refused", reason=str(error)))
            return
        registry = self.bot.server_settings
        updated = registry.get(interaction.guild_id)
        for setting, value in checked:
            updated = await registry.set(
                interaction.guild_id, setting, value, by=interaction.user.id
            )
        await reply(interaction, tr("settings.saved"), embed=settings_embed(updated, tr))

    @app_commands.command(name="show", description="Every setting and where it comes from")
    async def show(self, interaction: discord.Interaction) -> None:
        settings = self.bot.server_settings.get(interaction.guild_id)
        embed = settings_embed(settings, texts(interaction.locale))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="limits", description="How many videos may run at once")
    @app_commands.describe(
        per_member="Videos one member may have running at once (1–100)",
        per_server="Videos this server may have running at once (1–1,000)",
    )
    async def limits(
        self,
        interaction: discord.Interaction,
        per_member: int | None = None,
        per_server: int | None = None,
    ) -> None:
        if per_member is None and per_server is None:
            await reply(interaction, texts(interaction.locale)("settings.give_limits"))
            return
        changes = [
            (setting, value)
            for setting, value in (
                (Setting.MAX_ACTIVE_PER_USER, per_member),
                (Setting.MAX_ACTIVE_PER_SERVER, per_server),
            )
            if value is not None
        ]
        await self.change(interaction, *changes)

    @app_commands.command(name="quota", description="Daily limits on seconds and dollars")
    @app_commands.describe(
        seconds_per_member="Seconds of video one member may make per day; 0 = no quota",
        budget_usd="Dollars this server may spend per day; 0 = no budget",
    )
    async def quota(
        self,
        interaction: discord.Interaction,
        seconds_per_member: int | None = None,
        budget_usd: float | None = None,
    ) -> None:
        if seconds_per_member is None and budget_usd is None:
            await reply(interaction, texts(interaction.locale)("settings.give_quota"))
            return
        changes: list[tuple[Setting, Any]] = []
        if seconds_per_member is not None:
            changes.append((Setting.DAILY_SECONDS_PER_USER, seconds_per_member))
        if budget_usd is not None:
            changes.append((Setting.DAILY_BUDGET_USD, Decimal(str(budget_usd))))
        await self.change(interaction, *changes)

    @app_commands.command(name="sound", description="Whether videos get sound unless asked")
    @app_commands.describe(on="On: sound unless a member turns it off (sound costs more)")
    async def sound(self, interaction: discord.Interaction, on: bool) -> None:
        await self.change(interaction, (Setting.SOUND_DEFAULT, on))

    @app_commands.command(name="moderators", description="Roles that may cancel and delete")
    @app_commands.describe(action="Add or remove the role", role="The role")
    @app_commands.choices(action=ADD_OR_REMOVE)
    async def moderators(
        self, interaction: discord.Interaction, action: app_commands.Choice[str], role: discord.Role
    ) -> None:
        current = self.bot.server_settings.get(interaction.guild_id).moderator_role_ids
        roles = current | {role.id} if action.value == "add" else current - {role.id}
        await self.change(interaction, (Setting.MODERATOR_ROLES, roles))

    @app_commands.command(name="hosts", description="Roles that may start prompt sessions")
    @app_commands.describe(action="Add or remove the role", role="The role")
    @app_commands.choices(action=ADD_OR_REMOVE)
    async def hosts(
        self, interaction: discord.Interaction, action: app_commands.Choice[str], role: discord.Role
    ) -> None:
        current = self.bot.server_settings.get(interaction.guild_id).session_host_role_ids
        roles = current | {role.id} if action.value == "add" else current - {role.id}
        await self.change(interaction, (Setting.SESSION_HOSTS, roles))

    @app_commands.command(name="votes", description="Entries each member may vote for in a session")
    @app_commands.describe(per_member="Entries one member may vote for in a session (1–25)")
    async def votes(self, interaction: discord.Interaction, per_member: int) -> None:
        await self.change(interaction, (Setting.VOTES_PER_MEMBER, per_member))

    @app_commands.command(name="channels", description="Channels where videos may be made")
    @app_commands.describe(
        action="Add or remove the channel (no channels = every channel)", channel="The channel"
    )
    @app_commands.choices(action=ADD_OR_REMOVE)
    async def channels(
        self,
        interaction: discord.Interaction,
        action: app_commands.Choice[str],
        channel: discord.TextChannel,
    ) -> None:
        current = self.bot.server_settings.get(interaction.guild_id).channel_ids
        chosen = current | {channel.id} if action.value == "add" else current - {channel.id}
        await self.change(interaction, (Setting.CHANNELS, chosen))

    @app_commands.command(name="audit", description="Where moderators' actions are logged")
    @app_commands.describe(channel="The audit channel; leave out to stop logging")
    async def audit(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        value = channel.id if channel is not None else None
        await self.change(interaction, (Setting.AUDIT_CHANNEL, value))

    @app_commands.command(name="language", description="The language of public messages")
    @app_commands.describe(language="Status messages, videos and audit lines in this language")
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def language(
        self, interaction: discord.Interaction, language: app_commands.Choice[str]
    ) -> None:
        chosen = None if language.value == SERVER_LANGUAGE else language.value
        await self.change(interaction, (Setting.LANGUAGE, chosen))

    @app_commands.command(name="reset", description="Go back to the bot's default")
    @app_commands.describe(setting="Which setting (or all of them)")
    @app_commands.choices(setting=RESET_CHOICES)
    async def reset(
        self, interaction: discord.Interaction, setting: app_commands.Choice[str]
    ) -> None:
        tr = texts(interaction.locale)
        if not may_change_settings(Actor.from_interaction(interaction)):
            await reply(interaction, tr(SETTINGS_REFUSAL))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        chosen = list(Setting) if setting.value == "all" else [Setting(setting.value)]
        updated = await self.bot.server_settings.reset(interaction.guild_id, chosen)
        await reply(interaction, tr("settings.saved"), embed=settings_embed(updated, tr))


class ServerSettingsCog(commands.Cog, name="Server settings"):
    """Adds `/video settings` while loaded, and takes it away when unloaded."""

    def __init__(self, bot: VideoBot) -> None:
        self.bot = bot
        self.video_subgroup = SettingsCommands(bot)

    def _video_group(self) -> app_commands.Group | None:
        command = self.bot.tree.get_command("video")
        return command if isinstance(command, app_commands.Group) else None

    async def cog_load(self) -> None:
        group = self._video_group()
        if group is not None and group.get_command(self.video_subgroup.name) is None:
            group.add_command(self.video_subgroup)

    async def cog_unload(self) -> None:
        group = self._video_group()
        if group is not None:
            group.remove_command(self.video_subgroup.name)


async def setup(bot: VideoBot) -> None:
    await bot.add_cog(ServerSettingsCog(bot))
