"""A paid video that could not be posted where it was asked for: the bot was removed from
the server, or the channel is gone. The job keeps its link (nothing paid is lost), and its
requester is told by direct message where the video is. Discord may refuse the message
(the member allows no direct messages, or shares no server with the bot any more); then
nothing more is tried: `/video mine` lists the video in any server they share with the bot.

The message is sent once, by the process that finished the job, on the change that
finished it; it is written in the job's language."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.discord_ui.panels import prompt_preview
from bot.discord_ui.render import public_texts, shown_link
from bot.jobs.model import Failure, Job, JobState

log = logging.getLogger(__name__)

NOTE_KEYS = {
    Failure.SERVER_LEFT: ("stranded.server_left", "stranded.mine_elsewhere"),
    Failure.CHANNEL_GONE: ("stranded.channel_gone", "stranded.mine_there"),
}
"""Why the video could not be posted, and where `/video mine` finds it."""


def stranded(job: Job) -> bool:
    """Whether this change of the job is the one that kept its video unposted, for good,
    because its server or channel is gone (a later note on the job is not)."""
    return (
        job.state is JobState.DELIVERY_FAILED
        and job.failure in NOTE_KEYS
        and job.updated_at == job.entered(JobState.DELIVERY_FAILED)
    )


def stranded_note(job: Job) -> str:
    assert job.failure is not None
    tr = public_texts(job)
    why, where = NOTE_KEYS[job.failure]
    return "\n".join(
        (
            tr(why, job=job.id),
            f"> {prompt_preview(job)}",
            tr("stranded.here", link=shown_link(job, tr=tr)),
            tr(where),
        )
    )


class StrandedVideos:
    """A job observer: writes to the requester of each stranded video."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client
        self._writing: set[asyncio.Task[None]] = set()

    def job_changed(self, job: Job) -> None:
        if not stranded(job):
            return
        task = asyncio.create_task(self._write(job), name=f"stranded-{job.id}")
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def close(self) -> None:
        for task in list(self._writing):
            task.cancel()
        await asyncio.gather(*self._writing, return_exceptions=True)

    async def _write(self, job: Job) -> None:
        try:
            channel = await self._client.create_dm(discord.Object(job.requester_id))
            await channel.send(stranded_note(job), allowed_mentions=discord.AllowedMentions.none())
        except (discord.HTTPException, OSError) as error:
            log.info("job %d: could not tell its requester where the video is: %s", job.id, error)
