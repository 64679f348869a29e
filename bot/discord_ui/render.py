"""How jobs look in Discord: the status message, and what the final notices share with it
(the words of the final notices themselves are `card_text`'s).

Pure functions of a job, so every message can be rebuilt from the store after a restart.
User text is quoted with markdown escaped and shortened; mentions inside it are shown
but never ping. Words come from the catalogs: each function takes the reader's `Texts`
(English when left out) (every send also passes `allowed_mentions` limited to the requester).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import discord

from bot import wording
from bot.formatting import took
from bot.i18n import Texts, english, texts
from bot.jobs.eta import Basis, Eta
from bot.jobs.model import Job, JobState, NoticeState
from bot.media.addresses import is_public_https_link
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest

PROMPT_PREVIEW_CHARS = 600
NEGATIVE_PREVIEW_CHARS = 200
POSTED_LINK_MAX_CHARS = 1500
"""A video link on a result card: leaves room for the prompt within the card's 4,000."""
NOTE_LINK_MAX_CHARS = 600
"""A video link in the status embed's note, whose field holds 1,024."""

_COLOURS: Mapping[JobState, discord.Colour] = {
    JobState.NEW: discord.Colour.light_grey(),
    JobState.WAITING: discord.Colour.light_grey(),
    JobState.SUBMITTING: discord.Colour.blurple(),
    JobState.QUEUED: discord.Colour.blurple(),
    JobState.RUNNING: discord.Colour.gold(),
    JobState.COMPLETED: discord.Colour.green(),
    JobState.DELIVERED: discord.Colour.green(),
    JobState.DELIVERY_FAILED: discord.Colour.orange(),
    JobState.FAILED: discord.Colour.red(),
    JobState.CANCELLED: discord.Colour.dark_grey(),
    JobState.TIMED_OUT: discord.Colour.red(),
    JobState.SUBMISSION_UNKNOWN: discord.Colour.orange(),
}

_ICONS: Mapping[JobState, str] = {
    JobState.NEW: "⏳",
    JobState.WAITING: "⏳",
    JobState.SUBMITTING: "📨",
    JobState.QUEUED: "🕒",
    JobState.RUNNING: "🎬",
    JobState.COMPLETED: "📦",
    JobState.DELIVERED: "✅",
    JobState.DELIVERY_FAILED: "⚠️",
    JobState.FAILED: "❌",
    JobState.CANCELLED: "🚫",
    JobState.TIMED_OUT: "⌛",
    JobState.SUBMISSION_UNKNOWN: "⚠️",
}


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary near `limit` characters, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def quote(text: str, limit: int) -> str:
    """User text as a safe block quote: markdown escaped, shortened, every line quoted."""
    safe = discord.utils.escape_markdown(shorten(text, limit))
    return "\n".join(f"> {line}" if line else ">" for line in safe.splitlines() or [""])


def public_texts(job: Job) -> Texts:
    """The language of the job's public messages, chosen when it was created (English for
    jobs from before languages)."""
    return texts(job.locale)


def state_label(state: JobState, tr: Texts | None = None) -> str:
    """A job state as people read it (`Generating`)."""
    return (tr or english())(f"state.{state.value}")


def describe_options(request: KlingRequest, tr: Texts | None = None) -> str:
    tr = tr or english()
    sound = tr("options.sound_on") if request.effective_sound else tr("options.no_sound")
    parts = [
        tr("unit.seconds", seconds=request.effective_duration),
        request.effective_aspect_ratio.value,
        sound,
        tr("options.guidance", cfg_scale=tr.number(request.effective_cfg_scale)),
    ]
    if request.multi_prompt:
        parts.append(tr.plural("options.shots", len(request.multi_prompt)))
    return " · ".join(parts)


def cost_line(job: Job, pricing: Pricing, tr: Texts | None = None) -> str:
    """The estimate (length × price per second), or the real cost once RunComfy reports it."""
    tr = tr or english()
    if job.cost is not None:
        return tr("cost.actual", cost=tr.usd(job.cost), estimate=tr.usd(job.estimated_cost))
    request = job.request
    sound = request.effective_sound
    rate = pricing.per_second_with_sound if sound else pricing.per_second
    return tr(
        "cost.estimate_with_sound" if sound else "cost.estimate",
        estimate=tr.usd(job.estimated_cost),
        seconds=request.effective_duration,
        rate=tr.number(rate),
    )


def jump_url(guild_id: int | None, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"


def state_line(
    job: Job, place_in_line: int | None, tr: Texts | None = None, *, where: int | None = None
) -> str:
    """`where`: the channel of the job's video when it is not the job's own (a prompt
    session's entry is posted in the session's thread)."""
    tr = tr or english()
    label = f"{_ICONS[job.state]} {state_label(job.state, tr)}"
    if job.state is JobState.WAITING and place_in_line is not None:
        label += tr("state.place_in_line", place=place_in_line)
    elif job.state is JobState.WAITING and job.not_before is not None and job.failure:
        label += tr("state.asked_to_wait")
    elif job.state is JobState.QUEUED and job.queue_position is not None:
        label += tr("state.queue_position", position=job.queue_position + 1)
    elif job.state is JobState.DELIVERED and job.notice_message_id and not job.deleted_by:
        url = jump_url(job.guild_id, where or job.channel_id, job.notice_message_id)
        label += tr("state.see_the_video", url=url)
    return label


def eta_line(eta: Eta | None, now: float, tr: Texts | None = None) -> str | None:
    """When the video should be ready, as a Discord timestamp each reader sees in their own
    language and time zone, labelled as an estimate; past it, that it takes longer."""
    tr = tr or english()
    if eta is None:
        return None
    if eta.overdue(now):
        return tr("eta.overdue")
    when = f"<t:{math.ceil(eta.at)}:R>"
    if eta.basis is Basis.PRIOR and eta.assumed_run is not None:
        return tr("eta.ready_prior", when=when, minutes=max(1, round(eta.assumed_run / 60)))
    return tr("eta.ready", when=when)


def cancel_note(job: Job, tr: Texts | None = None) -> str | None:
    tr = tr or english()
    if job.state is JobState.CANCELLED:
        if job.cancelled_by is not None:
            return tr("note.cancelled_by", user=f"<@{job.cancelled_by}>")
        return None
    if job.state.is_cancellable:
        return tr("note.cancellable")
    if job.state is JobState.RUNNING:
        return tr("note.not_cancellable")
    return None


def status_embed(
    job: Job,
    *,
    pricing: Pricing,
    place_in_line: int | None,
    tr: Texts | None = None,
    eta: Eta | None = None,
    now: float = 0.0,
    where: int | None = None,
) -> discord.Embed:
    """The status message's embed for any state of the job, with the estimate `eta`
    (as it reads at `now`) under the state while the video is waited for; `where`: the
    channel of its video, when not the job's own."""
    tr = tr or english()
    request = job.request
    title = tr("status.title", job=job.id)
    if job.parent_id is not None:
        title += tr("status.reroll_of", parent=job.parent_id)
    embed = discord.Embed(
        title=title,
        description=quote(request.prompt, PROMPT_PREVIEW_CHARS),
        colour=_COLOURS[job.state],
    )
    embed.add_field(name=tr("status.requested_by"), value=f"<@{job.requester_id}>", inline=True)
    embed.add_field(name=tr("status.options"), value=describe_options(request, tr), inline=True)
    status = state_line(job, place_in_line, tr, where=where)
    ready = eta_line(eta, now, tr)
    embed.add_field(
        name=tr("status.status"), value=f"{status}\n{ready}" if ready else status, inline=False
    )
    if request.negative_prompt:
        embed.add_field(
            name=tr("status.avoid"),
            value=discord.utils.escape_markdown(
                shorten(request.negative_prompt, NEGATIVE_PREVIEW_CHARS)
            ),
            inline=False,
        )
    if request.multi_prompt:
        shots = "\n".join(
            f"{number}. {tr('unit.seconds', seconds=shot.duration)} — "
            + discord.utils.escape_markdown(shorten(shot.prompt, 80))
            for number, shot in enumerate(request.multi_prompt, start=1)
        )
        embed.add_field(name=tr("status.shots"), value=shorten(shots, 1000), inline=False)
    embed.add_field(name=tr("status.time"), value=timing_line(job, tr), inline=True)
    embed.add_field(name=tr("status.cost"), value=cost_line(job, pricing, tr), inline=True)
    deleted = tr("note.deleted_by", user=f"<@{job.deleted_by}>") if job.deleted_by else None
    notes = [note for note in (job_error(job, tr), cancel_note(job, tr), deleted) if note]
    if notes:
        embed.add_field(name=tr("status.note"), value=shorten("\n".join(notes), 1000), inline=False)
    embed.set_footer(text=tr("status.footer", job=job.id))
    return embed


def timing_line(job: Job, tr: Texts) -> str:
    """When it was asked (a Discord timestamp) and, once finished, how long it took."""
    timing = tr("status.asked", when=f"<t:{int(job.created_at)}:R>")
    finished = _finished_at(job)
    if finished is not None:
        timing += tr("status.took", duration=took(finished - job.created_at, tr))
    return timing


def is_showable_link(url: str | None, limit: int) -> bool:
    """A link from RunComfy members may see: public https, and short enough to post whole."""
    return url is not None and len(url) <= limit and is_public_https_link(url)


def shown_link(job: Job, limit: int = POSTED_LINK_MAX_CHARS, tr: Texts | None = None) -> str:
    """The job's video link as it may be posted, else why not, with what finds the video
    again (its number, RunComfy's request id). Only public https links are ever shown."""
    tr = tr or english()
    url = job.output_url
    if is_showable_link(url, limit):
        assert url is not None
        return url
    long = url and is_public_https_link(url)
    why = tr("link.too_long_to_post") if long else tr("link.not_safe")
    request_id = wording.outside_words(job.request_id, 80)
    if request_id:
        request_id = request_id.replace("`", "")
        return tr("link.unshown_with_id", why=why, job=job.id, request_id=request_id)
    return tr("link.unshown", why=why, job=job.id)


def job_error(job: Job, tr: Texts | None = None) -> str | None:
    """Why the job failed, or why its result could not be posted (then with the link)."""
    tr = tr or english()
    if job.failure is not None and job.state is not JobState.WAITING:
        return wording.failure_text(job.failure, job.failure_detail, tr)
    if job.notice_error and job.notice is NoticeState.FAILED:
        text = tr("note.could_not_post", why=wording.notice_problem(job.notice_error, tr))
        if job.output_url:
            text += tr("note.video_here", link=shown_link(job, NOTE_LINK_MAX_CHARS, tr))
        return text
    return None


def _finished_at(job: Job) -> float | None:
    for state in (
        JobState.COMPLETED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.TIMED_OUT,
        JobState.SUBMISSION_UNKNOWN,
    ):
        at = job.entered(state)
        if at is not None:
            return at
    return None


def requester_only(job: Job) -> discord.AllowedMentions:
    """Pings nobody but the requester, whatever the echoed prompt contains."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(job.requester_id)], replied_user=False
    )
