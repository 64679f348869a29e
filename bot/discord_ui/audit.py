"""The moderators' audit trail: every action on someone else's job, in a chosen channel."""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.render import PROMPT_PREVIEW_CHARS, quote
from bot.jobs.model import Job
from bot.server_settings import ServerSettings

log = logging.getLogger(__name__)


def audit_text(actor_id: int, action: str, job: Job, at: float) -> str:
    """Who did what to whose job, and when (Discord shows the time in each reader's zone)."""
    return (
        f"🛡️ <@{actor_id}> {action} video **#{job.id}** by <@{job.requester_id}> "
        f"in <#{job.channel_id}> · <t:{int(at)}:f>\n"
        f"{quote(job.request.prompt, PROMPT_PREVIEW_CHARS // 3)}"
    )


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
        channel_id = self._settings_for(job.guild_id).audit_channel_id
        if channel_id is None:
            return False
        channel = self._client.get_partial_messageable(channel_id, guild_id=job.guild_id)
        text = audit_text(actor_id, action, job, self._now())
        try:
            await self._outbox.send(
                channel_id,
                lambda: channel.send(text, allowed_mentions=discord.AllowedMentions.none()),
            )
        except discord.HTTPException as error:
            log.warning("could not write to the audit channel %d: %s", channel_id, error)
            return False
        return True
