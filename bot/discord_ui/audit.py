"""The moderators' audit trail, in a chosen channel: every action on someone else's job,
and the server's policy at work (a prompt refused for a blocked term, a member blocked or
unblocked, strikes)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.render import PROMPT_PREVIEW_CHARS, public_texts, quote
from bot.i18n import Texts, texts
from bot.jobs.model import Job
from bot.server_settings import ServerSettings

log = logging.getLogger(__name__)


AUDIT_ACTIONS = {"cancelled": "audit.cancelled", "deleted": "audit.deleted"}
"""The catalog key of each action a moderator can take on someone else's job."""


def audit_text(actor_id: int, action: str, job: Job, at: float) -> str:
    """Who did what to whose job, and when (Discord shows the time in each reader's zone),
    in the language of the job's public messages."""
    line = public_texts(job)(
        AUDIT_ACTIONS[action],
        actor=f"<@{actor_id}>",
        job=job.id,
        requester=f"<@{job.requester_id}>",
        channel=f"<#{job.channel_id}>",
        when=f"<t:{int(at)}:f>",
    )
    return f"🛡️ {line}\n{quote(job.request.prompt, PROMPT_PREVIEW_CHARS // 3)}"


class AuditLog:
    def __init__(
        self,
        client: discord.Client,
        outbox: ChannelOutbox,
        settings_for: Callable[[int | None], ServerSettings],
        now: Callable[[], float],
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._settings_for = settings_for
        self._now = now

    async def record(self, actor_id: int, action: str, job: Job) -> bool:
        """Post to the server's audit channel if the job is someone else's; True if posted.

        An audit post that fails is logged, never raised: the action itself already happened.
        """
        if actor_id == job.requester_id or job.guild_id is None:
            return False
        return await self._post(job.guild_id, audit_text(actor_id, action, job, self._now()))

    def texts_for(self, guild_id: int) -> Texts:
        """The server's public language: its setting, else Discord's for the server."""
        chosen = self._settings_for(guild_id).language
        guild = self._client.get_guild(guild_id)
        return texts(chosen or (guild.preferred_locale if guild is not None else None))

    async def note(self, guild_id: int, line: str, quoted: str | None = None) -> bool:
        """A policy line (a refused prompt, a block) in the audit channel, if the server has
        one, with the member's words quoted under it; True if posted."""
        text = f"🛡️ {line}"
        if quoted:
            text += "\n" + quote(quoted, PROMPT_PREVIEW_CHARS // 3)
        return await self._post(guild_id, text)

    async def _post(self, guild_id: int, text: str) -> bool:
        channel_id = self._settings_for(guild_id).audit_channel_id
        if channel_id is None:
            return False
        channel = self._client.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            await self._outbox.send(
                channel_id,
                lambda: channel.send(text, allowed_mentions=discord.AllowedMentions.none()),
            )
        except discord.HTTPException as error:
            log.warning("could not write to the audit channel %d: %s", channel_id, error)
            return False
        return True
