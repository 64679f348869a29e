"""The words of a job's final message, the result card: what happened, the prompt and
options that made the video, its facts, and the way to the original when the file is not
the original.

Pure functions of a job, like `render`. The card is a Components V2 layout, whose text
displays may hold 4,000 characters in all: the parts that must be there (the heading,
the facts, the link) are written first, and the prompt, the negative prompt and the
shots share what is left, each shortened at a word and marked with "…". User text is
escaped and quoted; mentions in it are shown but never ping (`requester_only`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import discord

from bot import wording
from bot.discord_ui.render import describe_options, quote, shorten, shown_link
from bot.i18n import Texts, english
from bot.jobs.model import Job, JobState
from bot.media.probe import MediaFacts
from bot.runcomfy.request import KlingRequest, Shot

TEXT_LIMIT = 4000
"""Discord's Components V2 limit: characters across all of a message's text displays."""
PROMPT_CARD_CHARS = 1500
"""The quoted prompt on a card, at most (and at most two thirds of the room left)."""
NEGATIVE_CARD_CHARS = 400
SHOTS_CARD_CHARS = 800
SHOT_CARD_CHARS = 200
"""One shot's prompt on a card, at most."""
SHOT_MIN_CHARS = 40
"""Fewer shots are shown rather than shots shortened below this."""
REASON_MAX_CHARS = 600
"""Why there is only a link, at most (the catalogs' reasons are far shorter)."""


@dataclass(frozen=True, slots=True)
class Shown:
    """How the video is shown on its card: the facts read from the file (None when it
    could not be read), whether the file is attached, the original's size when the file
    is a re-encode, and why there is only a link (in words) when it is not attached."""

    facts: MediaFacts | None = None
    attached: bool = True
    fitted_from: int | None = None
    link_reason: str | None = None


NOTICE_WHAT: Mapping[JobState, str] = {
    JobState.COMPLETED: "notice.what.completed",
    JobState.FAILED: "notice.what.failed",
    JobState.TIMED_OUT: "notice.what.timed_out",
    JobState.SUBMISSION_UNKNOWN: "notice.what.submission_unknown",
    JobState.CANCELLED: "notice.what.cancelled",
}
"""The catalog key of what happened, per final state."""


def notice_marker(job: Job, tr: Texts | None = None) -> str:
    """What identifies this job's final message of its current kind in the channel (a
    late video must not be mistaken for the "taking longer" notice before it)."""
    tr = tr or english()
    what = tr(NOTICE_WHAT.get(job.state, "notice.what.other"))
    return f"**#{job.id}** {what}"


def ready_heading(job: Job, tr: Texts | None = None) -> str:
    """`@alice your video **#12** is ready! 🎬`: the requester's mention notifies them."""
    return (tr or english())("notice.ready", user=f"<@{job.requester_id}>", job=job.id)


def failure_text(job: Job, tr: Texts | None = None) -> str:
    """Why there is no video, with the mention and the job's marker."""
    tr = tr or english()
    detail = (
        wording.failure_text(job.failure, job.failure_detail, tr)
        if job.failure is not None
        else tr("failure.no_reason")
    )
    marker = notice_marker(job, tr)
    return tr("notice.failure", user=f"<@{job.requester_id}>", marker=marker, detail=detail)


def short_notice_text(job: Job, tr: Texts | None = None) -> str:
    """The final message in its plainest form, for when Discord refused the full one: the
    mention, the job's number and what happened; the status message has the rest."""
    tr = tr or english()
    user = f"<@{job.requester_id}>"
    if job.state is JobState.COMPLETED:
        return tr("notice.short_ready", user=user, job=job.id, link=shown_link(job, 500, tr))
    return tr("notice.short_failed", user=user, job=job.id)


def describe_video(
    job: Job, facts: MediaFacts | None, fitted_from: int | None, tr: Texts | None = None
) -> str:
    """`5.0 s · 1280×720 · 3.2 MB (fitted from 24.1 MB) · cost $0.63`, from what is known."""
    tr = tr or english()
    parts: list[str] = []
    if facts is not None:
        size = tr.megabytes(facts.size_bytes)
        if fitted_from is not None:
            size += tr("notice.fitted_from", size=tr.megabytes(fitted_from))
        seconds = tr("unit.seconds", seconds=tr.decimal(facts.duration_seconds))
        parts += [seconds, f"{facts.width}×{facts.height}", size]
    if job.cost is not None:
        parts.append(tr("notice.cost", cost=tr.usd(job.cost)))
    return " · ".join(parts)


def link_lines(job: Job, shown: Shown, tr: Texts | None = None) -> str | None:
    """The way to the original: beside a re-encoded file (the original may expire), or
    instead of a file, with why. None when the attached file is the original."""
    tr = tr or english()
    if shown.attached and shown.fitted_from is None:
        return None
    link = shown_link(job, tr=tr)
    if shown.attached:
        lead = tr("notice.refitted", size=tr.megabytes(shown.fitted_from or 0))
        return f"{lead}\n<{link}>" if link == job.output_url else f"{lead}\n{link}"
    reason = shorten(shown.link_reason or tr("notice.not_attached"), REASON_MAX_CHARS)
    return f"{tr('notice.link_instead', reason=reason)}\n{link}"


def video_facts(job: Job, shown: Shown, tr: Texts | None = None) -> str:
    """The facts line and, where the file is not the original, the way to the original."""
    lines = [describe_video(job, shown.facts, shown.fitted_from, tr)]
    lines.append(link_lines(job, shown, tr) or "")
    return "\n".join(line for line in lines if line)


def longest(make: Callable[[int], str], budget: int, most: int) -> int:
    """The largest limit up to `most` whose `make(limit)` fits in `budget` characters, or
    0: user text grows when its markdown is escaped and its lines quoted, so it is
    searched for rather than computed."""
    low, high, best = 1, min(most, budget), 0
    while low <= high:
        middle = (low + high) // 2
        if len(make(middle)) <= budget:
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best


def fitted(make: Callable[[int], str], budget: int) -> str:
    """The longest `make(limit)` within `budget` characters, "" when none fits."""
    limit = longest(make, budget, budget)
    return make(limit) if limit else ""


def _escaped(text: str, limit: int) -> str:
    return discord.utils.escape_markdown(shorten(" ".join(text.split()), limit))


def shot_lines(shots: Sequence[Shot], tr: Texts, limit: int) -> str:
    """`1. 4 s — a wide shot of the harbour`, one line per shot, each prompt at most `limit`."""
    return "\n".join(
        f"{number}. {tr('unit.seconds', seconds=shot.duration)} — {_escaped(shot.prompt, limit)}"
        for number, shot in enumerate(shots, start=1)
    )


def shots_part(shots: Sequence[Shot], budget: int, tr: Texts) -> str:
    """The shots under their heading within `budget`, each prompt shortened alike; when
    even short lines do not fit, the last shots are left out and "…" says so."""
    heading = f"**{tr('status.shots')}**\n"
    for count in range(len(shots), 0, -1):
        shown = shots[:count]
        more = "" if count == len(shots) else "\n…"
        room = budget - len(heading) - len(more)
        enough = min(SHOT_MIN_CHARS, max(len(shot.prompt) for shot in shown))
        limit = longest(functools.partial(shot_lines, shown, tr), room, SHOT_CARD_CHARS)
        if limit >= enough:
            return f"{heading}{shot_lines(shown, tr, limit)}{more}"
    return ""


def request_parts(request: KlingRequest, room: int, tr: Texts) -> tuple[str, str]:
    """The quoted prompt, and the options with the negative prompt and shots, within
    `room` characters together: the options line always, then the prompt (at most two
    thirds of what is left), the negative prompt (at most half of the rest) and the shots."""
    options = f"**{tr('status.options')}** {describe_options(request, tr)}"
    room -= len(options)
    budget = min(PROMPT_CARD_CHARS, room * 2 // 3)
    prompt = fitted(lambda limit: quote(request.prompt, limit), budget)
    room -= len(prompt)
    details = [options]
    if request.negative_prompt:
        negative = request.negative_prompt
        label = f"**{tr('status.avoid')}** "
        budget = min(NEGATIVE_CARD_CHARS, room // 2) - len(label) - 1
        avoid = fitted(lambda limit: _escaped(negative, limit), budget)
        if avoid:
            details.append(label + avoid)
            room -= len(details[-1]) + 1
    if request.multi_prompt:
        shots = shots_part(request.multi_prompt, min(SHOTS_CARD_CHARS, room - 1), tr)
        if shots:
            details.append(shots)
    return prompt, "\n".join(details)


def card_texts(heading: str, request: KlingRequest, tail: str, tr: Texts) -> list[str]:
    """A card's text displays in order (heading, prompt, options, facts), within the
    4,000 characters together; empty parts are left out."""
    prompt, details = request_parts(request, TEXT_LIMIT - len(heading) - len(tail), tr)
    return [part for part in (heading, prompt, details, tail) if part]
