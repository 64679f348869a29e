"""A job's final message as a Components V2 card (`discord.ui.LayoutView`).

One container: the heading that mentions the requester, the video playing inline from the
message's own attachment (a media gallery naming `attachment://video-<id>.mp4`), the
prompt and options that made it, the facts of the file (and the way to the original
when the file is not it), and a row of buttons. Failures and link-only deliveries are
cards of the same shape without the video, so every final message reads alike.

Pure functions of the job and of what delivery found: a card can be rebuilt at any time,
and another feature (a prompt session's entries) can reuse `video_card` with buttons of
its own after the job's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import discord
from discord import ui

from bot.discord_ui.buttons import notice_buttons
from bot.discord_ui.card_text import (
    Shown,
    card_texts,
    failure_text,
    ready_heading,
    short_notice_text,
    video_facts,
)
from bot.discord_ui.render import public_texts, shorten
from bot.i18n import Texts
from bot.jobs.model import Job, JobState

ROW_WIDTH = 5
"""Buttons in one action row."""
MEDIA_DESCRIPTION_CHARS = 1000
"""The video's alt text (its prompt), within Discord's 1,024."""

_ACCENTS = {
    JobState.COMPLETED: discord.Colour.green(),
    JobState.FAILED: discord.Colour.red(),
    JobState.TIMED_OUT: discord.Colour.orange(),
    JobState.SUBMISSION_UNKNOWN: discord.Colour.orange(),
}


def video_filename(job: Job) -> str:
    """The name the video is attached under, which the card's media gallery names."""
    return f"video-{job.id}.mp4"


def video_card(
    job: Job,
    shown: Shown,
    *,
    tr: Texts | None = None,
    extra: Sequence[ui.Item[Any]] = (),
    heading: str | None = None,
) -> ui.LayoutView:
    """The finished video: inline when `shown.attached` (the message must attach it as
    `video_filename(job)`), else its link and why. `extra` buttons follow the job's;
    `heading` replaces the usual one (it must still mention the requester and carry the
    job's marker, by which the card is found again)."""
    tr = tr or public_texts(job)
    heading = heading or ready_heading(job, tr)
    texts = card_texts(heading, job.request, video_facts(job, shown, tr), tr)
    media: list[ui.Item[Any]] = []
    if shown.attached:
        item = discord.MediaGalleryItem(
            f"attachment://{video_filename(job)}",
            description=shorten(job.request.prompt, MEDIA_DESCRIPTION_CHARS),
        )
        media.append(ui.MediaGallery(item))
    colour = _ACCENTS[JobState.COMPLETED] if shown.attached else discord.Colour.orange()
    heading, *rest = texts
    body = [ui.TextDisplay(heading), *media, *(ui.TextDisplay(text) for text in rest)]
    return _card(body, [*notice_buttons(job, tr), *extra], colour)


def failure_card(job: Job, *, tr: Texts | None = None) -> ui.LayoutView:
    """Why there is no video (or not yet), with the prompt and options it was asked with."""
    tr = tr or public_texts(job)
    texts = card_texts(failure_text(job, tr), job.request, "", tr)
    colour = _ACCENTS.get(job.state, discord.Colour.dark_grey())
    return _card([ui.TextDisplay(text) for text in texts], notice_buttons(job, tr), colour)


def short_card(job: Job, *, tr: Texts | None = None) -> ui.LayoutView:
    """The plainest card, for when Discord refused the full one: the mention, the job's
    number, what happened (a finished video's link); the status message has the rest."""
    tr = tr or public_texts(job)
    colour = _ACCENTS.get(job.state, discord.Colour.dark_grey())
    text: ui.TextDisplay[ui.LayoutView] = ui.TextDisplay(short_notice_text(job, tr))
    return _card([text], notice_buttons(job, tr), colour)


def _card(
    body: Sequence[ui.Item[Any]], buttons: Sequence[ui.Item[Any]], colour: discord.Colour
) -> ui.LayoutView:
    rows = [
        ui.ActionRow(*buttons[start : start + ROW_WIDTH])
        for start in range(0, len(buttons), ROW_WIDTH)
    ]
    view = ui.LayoutView(timeout=None)
    view.add_item(ui.Container(*body, *rows, accent_colour=colour))
    return view


def layout_texts(components: Sequence[Any]) -> Iterator[str]:
    """The text displays of a message discord.py read back (`Message.components`), in
    reading order: how a card is recognised in the channel's history."""
    for component in components:
        if isinstance(component, discord.TextDisplay):
            yield component.content
        yield from layout_texts(getattr(component, "children", ()))
