"""Which job a command is about, and what the member may do with it: the lookups every
entry point of the job desk shares (commands, buttons, menus, autocomplete)."""

from __future__ import annotations

from collections.abc import Callable

import discord
from discord import app_commands

from bot.discord_ui.permissions import Actor, JobAction, is_moderator, may
from bot.discord_ui.render import state_label
from bot.i18n import Texts, english, texts
from bot.jobs.model import Job, JobState
from bot.jobs.tracker import JobTracker
from bot.runcomfy.request import DEFAULT_SOUND
from bot.server_settings import ServerSettings, listed

REFUSAL_LIST_MAX_CHARS = 1500
"""The allowed channels in a refusal: the whole reply stays within Discord's 2,000."""


def reader(interaction: discord.Interaction) -> Texts:
    """The language of private replies: the member's own Discord language."""
    return texts(interaction.locale)


class JobLookup:
    """Finds jobs through the tracker and reads the server's settings for the rules."""

    def __init__(
        self, tracker: JobTracker, settings_for: Callable[[int | None], ServerSettings]
    ) -> None:
        self.tracker = tracker
        self._settings_for = settings_for

    def server(self, interaction: discord.Interaction) -> ServerSettings:
        return self._settings_for(interaction.guild_id)

    def moderates(self, interaction: discord.Interaction, job: Job) -> bool:
        """A moderator of the job's channel (not of the channel the member typed in)."""
        actor = Actor.in_channel(interaction, job.channel_id)
        return is_moderator(actor, self.server(interaction).moderator_role_ids)

    def allowed(self, interaction: discord.Interaction, action: JobAction, job: Job) -> bool:
        """The one rule for every entry point (button, command, menu, autocomplete): the
        member's permissions in the job's channel, plus the server's moderator roles."""
        return may(
            action,
            Actor.in_channel(interaction, job.channel_id),
            owner_id=job.requester_id,
            moderator_role_ids=self.server(interaction).moderator_role_ids,
        )

    def public_language(self, interaction: discord.Interaction) -> str:
        """The language of what the server reads (status, video, audit): the server's
        setting, else the language Discord has for the server."""
        chosen = self.server(interaction).language
        return texts(chosen or interaction.guild_locale).language

    def channel_refusal(self, interaction: discord.Interaction) -> str | None:
        """Why videos cannot be made here, or None when they can."""
        allowed = self.server(interaction).channel_ids
        channel = interaction.channel
        if not allowed or channel is None:
            return None
        parent_id = getattr(channel, "parent_id", None)
        if channel.id in allowed or parent_id in allowed:
            return None
        mentions = [f"<#{channel_id}>" for channel_id in sorted(allowed)]
        tr = reader(interaction)
        return tr("desk.wrong_channel", where=listed(mentions, REFUSAL_LIST_MAX_CHARS, tr))

    def sound_for(self, interaction: discord.Interaction, sound: bool | None) -> bool | None:
        """The member's choice, else the server's default when it differs from RunComfy's."""
        if sound is not None:
            return sound
        server_default = self.server(interaction).sound_default
        return server_default if server_default != DEFAULT_SOUND else None

    async def server_job(self, interaction: discord.Interaction, job_id: int) -> Job | str:
        """The job, if it belongs to this server; else what to tell the member."""
        job = await self.tracker.fetch(job_id)
        if job is None or job.guild_id != interaction.guild_id:
            return reader(interaction)("desk.no_such_job", job=job_id)
        return job

    async def find_job(self, interaction: discord.Interaction, job_id: int | None) -> Job | str:
        """The job a command is about: the given one if the member may see it, else their latest."""
        if job_id is None:
            mine = await self.tracker.recent(
                requester_id=interaction.user.id, guild_id=interaction.guild_id, limit=1
            )
            return mine[0] if mine else reader(interaction)("desk.no_jobs_yet")
        job = await self.server_job(interaction, job_id)
        if isinstance(job, str):
            return job
        if not self.allowed(interaction, JobAction.VIEW, job):
            return reader(interaction)("desk.not_yours", job=job_id)
        return job

    def job_choices(
        self, interaction: discord.Interaction, current: str, *, cancellable: bool = False
    ) -> list[app_commands.Choice[int]]:
        """The member's unfinished jobs, and those of the channels they moderate."""
        action = JobAction.CANCEL if cancellable else JobAction.VIEW
        text = current.strip().lstrip("#").lower()
        jobs = [
            job
            for job in self.tracker.open_jobs(interaction.guild_id)
            if job.state is not JobState.NEW
            and (not cancellable or job.state.is_cancellable)
            and self.allowed(interaction, action, job)
            and (not text or str(job.id).startswith(text) or text in job.request.prompt.lower())
        ]
        tr = reader(interaction)
        return [job_choice(job, tr) for job in reversed(jobs[-25:])]


def job_choice(job: Job, tr: Texts | None = None) -> app_commands.Choice[int]:
    """A job in autocomplete: number, state and prompt, within Discord's 100 characters."""
    tr = tr or english()
    prompt = " ".join(job.request.prompt.split())
    name = f"#{job.id} · {state_label(job.state, tr)} · {prompt}"[:100]
    return app_commands.Choice(name=name, value=job.id)
