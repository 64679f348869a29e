"""Keeps each job's status message in step with the job.

The status message is the command's own public reply. While its interaction token lives
(with a safe margin before Discord's 15 minutes) it is edited through the interaction's
webhook, whose rate limits are its own: a busy channel's five-per-five-seconds bucket is
left to what needs it, the videos. After that, or after a restart (tokens are kept in
memory only, never stored), it is edited through the channel with the bot token, paced
by the channel's outbox. Either way edits are coalesced: only the newest picture is sent,
and an edit that would change nothing is skipped.

The card says when the video should be ready (the tracker's estimate, as a Discord
timestamp) and edits only for what a waiting member wants to know: a new state, an
estimate that moved by more than a fifth of the time it had left, and — when the shown
estimate passes, on the tracker's reminder — that the job takes longer than usual. A
queue position or place in line that moved without moving the estimate waits for the
next such edit (`/video status` shows them as they are). Through the webhook, states a
job usually passes in a moment (waiting for the line's next turn, being sent, posting
the video) are shown only if they are still the newest after `edit_interval`; through
the channel, the outbox's pacing coalesces what comes close together.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import discord

from bot.discord_ui.buttons import job_view
from bot.discord_ui.outbox import ChannelOutbox
from bot.discord_ui.render import public_texts, status_embed
from bot.i18n import Texts
from bot.jobs.eta import Eta
from bot.jobs.model import FINAL_STATES, Job, JobState
from bot.runcomfy.pricing import Pricing

log = logging.getLogger(__name__)

Picture = tuple[JobState, str, bool]
UNSHOWN_FIELDS = frozenset({"queue_position", "updated_at", "version"})
"""Fields of a job the card does not show as they are: the queue position it shows is the
progress's (`Progress`), and when the row was written is not shown at all."""
_SHOWN_FIELDS = tuple(f.name for f in dataclasses.fields(Job) if f.name not in UNSHOWN_FIELDS)
PASSING_STATES = frozenset({JobState.SUBMITTING, JobState.COMPLETED})
"""States a job usually leaves within moments: shown only if they last."""
UNKNOWN_MESSAGE = 10008
"""Discord's code for a deleted message (an expired token answers 10015, Unknown Webhook)."""


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the card says the job is, and when it says the video should be ready."""

    state: JobState
    place_in_line: int | None
    queue_position: int | None
    eta: Eta | None


@dataclass(frozen=True, slots=True)
class _Shown:
    """What a status message shows, and what it was drawn from: a change of the job that
    leaves every input of the card as it was (a queue position the card does not show
    yet, say) is skipped without drawing the card again."""

    picture: Picture
    job: Job
    progress: Progress
    note: str | None
    overdue: bool

    def drawn_from(self, job: Job, progress: Progress, note: str | None, overdue: bool) -> bool:
        return (
            progress == self.progress
            and note == self.note
            and overdue == self.overdue
            and all(getattr(job, name) == getattr(self.job, name) for name in _SHOWN_FIELDS)
        )


@dataclass(slots=True)
class _Reply:
    """A status message that is an interaction's reply, editable through its webhook."""

    interaction: discord.Interaction
    usable_until: float
    """`monotonic` seconds of the bot's clock after which the token is not trusted."""


class StatusBoard:
    """A `JobObserver`: queues a coalesced edit of the job's status message on every change."""

    def __init__(
        self,
        client: discord.Client,
        outbox: ChannelOutbox,
        *,
        pricing: Pricing,
        place_in_line: Callable[[int], int | None],
        monotonic: Callable[[], float],
        edit_interval: float = 0.0,
        estimate: Callable[[Job], Eta | None] = lambda job: None,
        remind: Callable[[int, float], None] = lambda job_id, when: None,
        now: Callable[[], float] = time.time,
    ) -> None:
        """`edit_interval`: real seconds between two edits of one message while the job
        is under way (the end is never held back). `estimate` says when a job's video
        should be ready, `remind` asks for the job to be shown again at a time (the
        tracker's), and `now` is the clock both count in."""
        self._client = client
        self._outbox = outbox
        self._pricing = pricing
        self._place_in_line = place_in_line
        self._monotonic = monotonic
        self._estimate = estimate
        self._remind = remind
        self._now = now
        self._latest: dict[int, Job] = {}
        self._shown: dict[int, _Shown] = {}
        self._arrived: dict[int, tuple[JobState, float]] = {}
        self._gone: set[int] = set()
        self._replies: dict[int, _Reply] = {}
        self._webhook_tasks: dict[int, asyncio.Task[None]] = {}
        self._wakes: dict[int, asyncio.Event] = {}
        self._edit_interval = edit_interval
        self._sent_at: dict[int, float] = {}
        self._notes: dict[int, str] = {}
        self.entry_note: Callable[[Job, Texts], str | None] | None = None
        """A prompt session's line for its entries (set once the sessions are wired)."""
        self.video_channel: Callable[[Job], int | None] = lambda job: None
        """Where a job's video is when not in its own channel (an entry's gallery)."""
        self.edits_sent = 0
        self.webhook_edits_sent = 0

    def adopt(self, job_id: int, interaction: discord.Interaction, *, usable_for: float) -> None:
        """The job's status message is `interaction`'s reply: edit it through the webhook
        for the next `usable_for` clock seconds."""
        self._replies[job_id] = _Reply(interaction, self._monotonic() + usable_for)

    def forget(self, job_id: int) -> None:
        """A job that never started: its reply is not a status message after all."""
        self._latest.pop(job_id, None)
        self._let_go(job_id)

    def kept_per_job(self) -> dict[str, int]:
        """How many jobs each of the board's per-job records holds right now."""
        return {
            "newest_pictures": len(self._latest),
            "pictures_shown": len(self._shown),
            "states_arrived": len(self._arrived),
            "gone_messages": len(self._gone),
            "interaction_replies": len(self._replies),
            "webhook_edits": len(self._webhook_tasks),
            "webhook_edit_times": len(self._sent_at),
            "notes": len(self._notes),
        }

    def job_changed(self, job: Job) -> None:
        if job.status_message_id is None and job.id not in self._replies:
            return
        self._latest[job.id] = job
        arrived = self._arrived.get(job.id)
        if arrived is None or arrived[0] is not job.state:
            self._arrived[job.id] = (job.state, time.monotonic())
        if self._reply_of(job.id) is not None:
            self._edit_through_webhook(job.id)
            return
        shown = self._shown.get(job.id)
        important = shown is None or shown.progress.state is not job.state
        self._outbox.edit(job.channel_id, job.id, lambda: self._edit(job.id), important=important)

    def render(
        self, job: Job, tr: Texts | None = None
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        """A private copy of the status message in the reader's language (`tr`): the
        estimate the card shows, the queue position and place in line as they are now."""
        now = self._now()
        live = self._fresh(job, self._progress_for(job, now).eta)
        return self._draw(job, live, now, tr or public_texts(job))

    def eta_of(self, job: Job) -> Eta | None:
        """The estimate the job's status card shows (or would show now)."""
        return self._progress_for(job, self._now()).eta

    def _fresh(self, job: Job, eta: Eta | None) -> Progress:
        place = self._place_in_line(job.id) if job.state is JobState.WAITING else None
        return Progress(job.state, place, job.queue_position, eta)

    def _progress_for(self, job: Job, now: float) -> Progress:
        """What the card should say of the job's progress: a fresh estimate for a new
        state or one that moved by more than a fifth of the time left, else what it says
        already (past its estimate, it says so until the state changes)."""
        fresh = self._fresh(job, self._estimate(job))
        shown_card = self._shown.get(job.id)
        shown = shown_card.progress if shown_card is not None else None
        if shown is None or shown.state is not job.state or shown.eta is None:
            return fresh
        if fresh.eta is None or shown.eta.overdue(now) or not fresh.eta.moved_from(shown.eta, now):
            return shown
        return fresh

    def _draw(
        self, job: Job, progress: Progress, now: float, tr: Texts
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        if job.queue_position != progress.queue_position:
            job = dataclasses.replace(job, queue_position=progress.queue_position)
        embed = status_embed(
            job,
            pricing=self._pricing,
            place_in_line=progress.place_in_line,
            tr=tr,
            eta=progress.eta,
            now=now,
            where=self.video_channel(job),
        )
        entry = self.entry_note(job, tr) if self.entry_note and job.session_id else None
        if entry is not None:
            embed.add_field(name=tr("status.entry"), value=entry, inline=False)
        note = self._notes.get(job.id)
        if note is not None:
            embed.add_field(name=tr("status.video"), value=note, inline=False)
        return embed, job_view(job)

    def _new_card(self, job: Job) -> tuple[discord.Embed, discord.ui.View | None, _Shown] | None:
        """The public status message as it should read now; None when it reads as shown."""
        now = self._now()
        progress = self._progress_for(job, now)
        note = self._notes.get(job.id)
        overdue = progress.eta is not None and progress.eta.overdue(now)
        shown = self._shown.get(job.id)
        if shown is not None and shown.drawn_from(job, progress, note, overdue):
            return None
        embed, view = self._draw(job, progress, now, public_texts(job))
        picture = _picture(job, embed, view)
        if shown is not None and shown.picture == picture:
            return None
        return embed, view, _Shown(picture, job, progress, note, overdue)

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

    def _remember(self, job: Job, shown: _Shown) -> None:
        """Remember what a message shows, so an edit to the same picture is skipped, and
        come back when the estimate it shows passes."""
        if job.state.is_final:
            self._let_go(job.id)
            return
        self._shown[job.id] = shown
        eta = shown.progress.eta
        if eta is not None and not eta.overdue(self._now()):
            self._remind(job.id, eta.at)

    async def close(self) -> None:
        tasks = list(self._webhook_tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._webhook_tasks.clear()
        self._wakes.clear()
        self._replies.clear()

    def _let_go(self, job_id: int) -> None:
        """Keep nothing more for the job's status message (the newest picture still to
        be sent, if any, stays queued)."""
        self._shown.pop(job_id, None)
        self._arrived.pop(job_id, None)
        self._replies.pop(job_id, None)
        self._sent_at.pop(job_id, None)
        self._gone.discard(job_id)

    def _cannot_show(self, job: Job) -> None:
        """The status message is gone for good (deleted, its channel deleted, access
        lost). While the job runs, its next pictures are not sent; once it is over the
        board forgets it, so a bot that runs for months keeps no mark per lost message
        (a later change of the job costs one refused edit, and is forgotten again)."""
        if job.state.is_final:
            self._let_go(job.id)
        else:
            self._gone.add(job.id)

    def _reply_of(self, job_id: int) -> _Reply | None:
        reply = self._replies.get(job_id)
        if reply is not None and self._monotonic() >= reply.usable_until:
            del self._replies[job_id]
            return None
        return reply

    # ---------------------------------------------------------------- webhook route

    def _edit_through_webhook(self, job_id: int) -> None:
        wake = self._wakes.get(job_id)
        if wake is not None:
            wake.set()
            return
        self._wakes[job_id] = asyncio.Event()
        task = asyncio.create_task(self._drain_webhook(job_id), name=f"status-webhook-{job_id}")
        self._webhook_tasks[job_id] = task

    async def _drain_webhook(self, job_id: int) -> None:
        """Send the newest picture until there is nothing new; hand the job over to the
        channel route when the token is no longer usable."""
        try:
            while job_id in self._latest:
                await self._spaced(job_id, self._wakes[job_id])
                if job_id not in self._latest:
                    return
                reply = self._reply_of(job_id)
                if reply is None:
                    job = self._latest[job_id]
                    self._outbox.edit(
                        job.channel_id, job_id, lambda: self._edit(job_id), important=True
                    )
                    return
                job = self._latest.pop(job_id)
                await self._send_to_webhook(job, reply)
        finally:
            self._webhook_tasks.pop(job_id, None)
            self._wakes.pop(job_id, None)

    async def _spaced(self, job_id: int, wake: asyncio.Event) -> None:
        """The end of the job goes at once. Everything else waits until `edit_interval`
        has passed since the last edit, and a passing state until it has been the newest
        that long (a newer picture ends the wait early when it may go sooner)."""
        while (latest := self._latest.get(job_id)) is not None:
            if latest.state in FINAL_STATES:
                return
            ready = self._sent_at.get(job_id, float("-inf")) + self._edit_interval
            arrived = self._arrived.get(job_id)
            if arrived is not None and self._passing(latest):
                ready = max(ready, arrived[1] + self._edit_interval)
            wait = ready - time.monotonic()
            if wait <= 0:
                return
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), wait)

    def _passing(self, job: Job) -> bool:
        """A state the job usually leaves within moments: being sent, posting the video,
        or waiting for the line's next turn to be sent or given a place."""
        if job.state is JobState.WAITING:
            return self._place_in_line(job.id) is None and job.not_before is None
        return job.state in PASSING_STATES

    async def _send_to_webhook(self, job: Job, reply: _Reply) -> None:
        card = self._new_card(job)
        if card is None:
            return
        embed, view, shown = card
        try:
            await reply.interaction.edit_original_response(embed=embed, view=view)
        except discord.NotFound as error:
            self._replies.pop(job.id, None)
            if error.code == UNKNOWN_MESSAGE:
                log.info("job %d: its status message is gone (%s)", job.id, error)
                self._cannot_show(job)
                return
            log.info("job %d: interaction token refused (%s); using the channel", job.id, error)
            self._latest.setdefault(job.id, job)
            return
        except discord.HTTPException as error:
            log.warning("job %d: status edit failed (%s); will retry", job.id, error)
            self._replies.pop(job.id, None)
            self._latest.setdefault(job.id, job)
            return
        self.webhook_edits_sent += 1
        self._sent_at[job.id] = time.monotonic()
        self._remember(job, shown)

    # ---------------------------------------------------------------- channel route

    async def _edit(self, job_id: int) -> bool:
        """Bring the status message up to date; False when nothing had to be sent."""
        job = self._latest.pop(job_id, None)
        if job is None or job.status_message_id is None:
            return False
        if job_id in self._gone:
            self._cannot_show(job)
            return False
        card = self._new_card(job)
        if card is None:
            return False
        embed, view, shown = card
        channel = self._client.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        message = channel.get_partial_message(job.status_message_id)
        try:
            await message.edit(embed=embed, view=view)
        except (discord.NotFound, discord.Forbidden) as error:
            log.info("job %d: cannot edit its status message any more (%s)", job_id, error)
            self._cannot_show(job)
            return True
        except discord.HTTPException as error:
            log.warning("job %d: status edit failed (%s); will retry", job_id, error)
            self._latest.setdefault(job_id, job)
            self._outbox.edit(job.channel_id, job_id, lambda: self._edit(job_id))
            return True
        self.edits_sent += 1
        self._remember(job, shown)
        return True


def _picture(job: Job, embed: discord.Embed, view: discord.ui.View | None) -> Picture:
    return (job.state, repr(embed.to_dict()), view is not None)
