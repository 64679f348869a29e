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
from bot.discord_ui.permissions import (
    SETTINGS_REFUSAL,
    Actor,
    is_moderator,
    may_change_settings,
)
from bot.discord_ui.policy_gate import allowance_text
from bot.discord_ui.policy_panels import PagesView, policy_pages
from bot.discord_ui.replies import reply
from bot.i18n import available_languages, language_name, texts
from bot.policy.terms import TERM_MAX_CHARS, TERMS_PER_SERVER
from bot.policy.tiers import (
    DAILY_SECONDS_MAX,
    JOBS_AT_ONCE_MAX,
    TIERS_PER_SERVER,
    base_allowance,
    changed_tier,
)
from bot.runcomfy.request import DURATION_MAX, DURATION_MIN
from bot.server_settings import (
    SPECS,
    STRIKE_BLOCK_HOURS_MAX,
    STRIKES_MAX,
    Setting,
    SettingValueError,
)

if TYPE_CHECKING:
    from bot.app import VideoBot

ADD_OR_REMOVE = [
    app_commands.Choice(name="add", value="add"),
    app_commands.Choice(name="remove", value="remove"),
]
SET_OR_REMOVE = [
    app_commands.Choice(name="set", value="set"),
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

    async def managers_only(self, interaction: discord.Interaction) -> int | None:
        """The server, once the member is known to manage it and the answer is deferred."""
        if not may_change_settings(Actor.from_interaction(interaction)):
            await reply(interaction, texts(interaction.locale)(SETTINGS_REFUSAL))
            return None
        await interaction.response.defer(ephemeral=True, thinking=True)
        return interaction.guild_id

    async def change_in_set(
        self,
        interaction: discord.Interaction,
        setting: Setting,
        action: app_commands.Choice[str],
        item_id: int,
    ) -> None:
        """Add or remove one id (a role, a channel) in a setting that is a set of ids."""
        server = self.bot.server_settings.get(interaction.guild_id)
        current: frozenset[int] = getattr(server, SPECS[setting].attribute)
        chosen = current | {item_id} if action.value == "add" else current - {item_id}
        await self.change(interaction, (setting, chosen))

    async def change_given(
        self, interaction: discord.Interaction, ask: str, *given: tuple[Setting, Any]
    ) -> None:
        """Change the settings given a value (None: not given); with none given, ask for one
        (`ask` is the catalog's sentence naming what may be given)."""
        changes = [(setting, value) for setting, value in given if value is not None]
        if not changes:
            await reply(interaction, texts(interaction.locale)(ask))
            return
        await self.change(interaction, *changes)

    @app_commands.command(name="show", description="Every setting and where it comes from")
    async def show(self, interaction: discord.Interaction) -> None:
        """The settings, then the role tiers; blocked terms and members only for those who
        manage the server or moderate (see `bot.discord_ui.policy_panels`)."""
        tr = texts(interaction.locale)
        settings = self.bot.server_settings.get(interaction.guild_id)
        actor = Actor.from_interaction(interaction)
        private = may_change_settings(actor) or is_moderator(actor, settings.moderator_role_ids)
        policy = self.bot.policy.get(interaction.guild_id)
        extra = policy_pages(policy, private=private, now=self.bot.clock.now(), tr=tr)
        pages = [settings_embed(settings, tr), *extra]
        view = PagesView(pages, owner_id=interaction.user.id, tr=tr)
        await interaction.response.send_message(embed=pages[0], view=view, ephemeral=True)

    @app_commands.command(name="blocked", description="Terms a prompt may not contain")
    @app_commands.describe(
        action="Add or remove the term",
        term=f"A word or phrase (up to {TERM_MAX_CHARS} characters)",
    )
    @app_commands.choices(action=ADD_OR_REMOVE)
    async def blocked(
        self,
        interaction: discord.Interaction,
        action: app_commands.Choice[str],
        term: app_commands.Range[str, 1, TERM_MAX_CHARS],
    ) -> None:
        guild_id = await self.managers_only(interaction)
        if guild_id is None:
            return
        tr = texts(interaction.locale)
        policy = self.bot.policy
        if action.value == "add":
            added = await policy.add_term(guild_id, term, by=interaction.user.id)
            answer = tr(f"terms.{added}", limit=TERMS_PER_SERVER)
        else:
            removed = await policy.remove_term(guild_id, term)
            answer = tr("terms.removed" if removed else "terms.not_there")
        count = len(policy.get(guild_id).terms.terms)
        await reply(interaction, answer + " " + tr("terms.count", count=count))

    @app_commands.command(name="tier", description="What members with a role may make")
    @app_commands.describe(
        action="Set the role's tier (what you leave out stays as it was) or remove it",
        role="The role",
        daily_seconds="Seconds of video per day; 0 = no limit",
        longest=f"Longest video in seconds ({DURATION_MIN}–{DURATION_MAX})",
        sound="Whether their videos may have sound",
        at_once=f"Their videos running at once (1–{JOBS_AT_ONCE_MAX})",
    )
    @app_commands.choices(action=SET_OR_REMOVE)
    async def tier(
        self,
        interaction: discord.Interaction,
        action: app_commands.Choice[str],
        role: discord.Role,
        daily_seconds: app_commands.Range[int, 0, DAILY_SECONDS_MAX] | None = None,
        longest: app_commands.Range[int, DURATION_MIN, DURATION_MAX] | None = None,
        sound: bool | None = None,
        at_once: app_commands.Range[int, 1, JOBS_AT_ONCE_MAX] | None = None,
    ) -> None:
        guild_id = await self.managers_only(interaction)
        if guild_id is None:
            return
        tr = texts(interaction.locale)
        if action.value == "remove":
            removed = await self.bot.policy.remove_tier(guild_id, role.id)
            key = "tiers.removed" if removed else "tiers.not_there"
            await reply(interaction, tr(key, role=role.mention))
            return
        tiers = self.bot.policy.get(guild_id).tiers
        if role.id not in tiers and len(tiers) >= TIERS_PER_SERVER:
            await reply(interaction, tr("tiers.full", limit=TIERS_PER_SERVER))
            return
        settings = self.bot.server_settings.get(guild_id)
        base = base_allowance(
            daily_seconds=settings.daily_seconds_per_user,
            jobs_at_once=settings.max_active_per_user,
        )
        chosen = changed_tier(
            tiers.get(role.id),
            role.id,
            base,
            daily_seconds=daily_seconds,
            longest=longest,
            sound=sound,
            at_once=at_once,
        )
        if chosen is None:
            await reply(interaction, tr("tiers.daily_range", low=DURATION_MIN))
            return
        await self.bot.policy.set_tier(guild_id, chosen, by=interaction.user.id)
        text = tr("tiers.saved", role=role.mention, allowance=allowance_text(chosen.allowance, tr))
        await reply(interaction, text)

    @app_commands.command(name="strikes", description="When refused videos block a member")
    @app_commands.describe(
        count=f"Videos refused for their content within 24 hours that block (0 = never, "
        f"up to {STRIKES_MAX})",
        block_hours="How many hours the block lasts",
    )
    async def strikes(
        self,
        interaction: discord.Interaction,
        count: app_commands.Range[int, 0, STRIKES_MAX] | None = None,
        block_hours: app_commands.Range[int, 1, STRIKE_BLOCK_HOURS_MAX] | None = None,
    ) -> None:
        await self.change_given(
            interaction,
            "settings.give_strikes",
            (Setting.STRIKES_TO_BLOCK, count),
            (Setting.STRIKE_BLOCK_HOURS, block_hours),
        )

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
        await self.change_given(
            interaction,
            "settings.give_limits",
            (Setting.MAX_ACTIVE_PER_USER, per_member),
            (Setting.MAX_ACTIVE_PER_SERVER, per_server),
        )

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
        budget = None if budget_usd is None else Decimal(str(budget_usd))
        await self.change_given(
            interaction,
            "settings.give_quota",
            (Setting.DAILY_SECONDS_PER_USER, seconds_per_member),
            (Setting.DAILY_BUDGET_USD, budget),
        )

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
        await self.change_in_set(interaction, Setting.MODERATOR_ROLES, action, role.id)

    @app_commands.command(name="hosts", description="Roles that may start prompt sessions")
    @app_commands.describe(action="Add or remove the role", role="The role")
    @app_commands.choices(action=ADD_OR_REMOVE)
    async def hosts(
        self, interaction: discord.Interaction, action: app_commands.Choice[str], role: discord.Role
    ) -> None:
        await self.change_in_set(interaction, Setting.SESSION_HOSTS, action, role.id)

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
        await self.change_in_set(interaction, Setting.CHANNELS, action, channel.id)

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
