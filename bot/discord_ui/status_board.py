"""Keeps each job's status message in step with the job, through the channel outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from bot.discord_ui.buttons import job_view
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.render import status_embed
from bot.jobs.model import Job, JobState
from bot.runcomfy.pricing import Pricing

log = logging.getLogger(__name__)


class StatusBoard:
    """A `JobObserver`: queues a coalesced edit of the job's status message on every change."""

    def __init__(
        self,
        client: discord.Client,
        outbox: ChannelOutbox,
        *,
        pricing: Pricing,
        place_in_line: Callable[[int], int | None],
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._pricing = pricing
        self._place_in_line = place_in_line
        self._latest: dict[int, Job] = {}
        self._shown: dict[int, tuple[JobState, str, bool]] = {}
        self._gone: set[int] = set()
        self._notes: dict[int, str] = {}
        self.edits_sent = 0

    def job_changed(self, job: Job) -> None:
        if job.status_message_id is None:
            return
        self._latest[job.id] = job
        shown = self._shown.get(job.id)
        important = shown is None or shown[0] is not job.state
        self._outbox.edit(job.channel_id, job.id, lambda: self._edit(job.id), important=important)

    def render(self, job: Job) -> tuple[discord.Embed, discord.ui.View | None]:
        embed = status_embed(job, pricing=self._pricing, place_in_line=self._place_in_line(job.id))
        note = self._notes.get(job.id)
        if note is not None:
            embed.add_field(name="Video", value=note, inline=False)
        return embed, job_view(job)

    def set_note(self, job: Job, note: str | None) -> None:
        """Show (or, with None, remove) a passing fact the job itself does not hold, such
        as a re-encode in progress; the notifier owns it, so bot/jobs needs no Discord."""
        if self._notes.get(job.id) == note:
            return
        if note is None:
            del self._notes[job.id]
        else:
            self._notes[job.id] = note
        self.job_changed(self._latest.get(job.id, job))

    def shown(self, job: Job, embed: discord.Embed, view: discord.ui.View | None) -> None:
        """Remember what a message shows, so an edit to the same picture is skipped."""
        if job.state.is_final:
            self._shown.pop(job.id, None)
        else:
            self._shown[job.id] = (job.state, repr(embed.to_dict()), view is not None)

    async def _edit(self, job_id: int) -> bool:
        """Bring the status message up to date; False when nothing had to be sent."""
        job = self._latest.pop(job_id, None)
        if job is None or job.status_message_id is None or job_id in self._gone:
            return False
        embed, view = self.render(job)
        if self._shown.get(job_id) == (job.state, repr(embed.to_dict()), view is not None):
            return False
        channel = self._client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        message = channel.get_partial_message(job.status_message_id)
        try:
            await message.edit(embed=embed, view=view)
        except (discord.NotFound, discord.Forbidden) as error:
            log.info("job %d: cannot edit its status message any more (%s)", job_id, error)
            self._gone.add(job_id)
            return True
        except discord.HTTPException as error:
            log.warning("job %d: status edit failed (%s); will retry", job_id, error)
            self._latest.setdefault(job_id, job)
            self._outbox.edit(job.channel_id, job_id, lambda: self._edit(job_id))
            return True
        self.edits_sent += 1
        self.shown(job, embed, view)
        return True
