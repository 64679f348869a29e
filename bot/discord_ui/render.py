"""How jobs look in Discord: the status message and the final notices.

Pure functions of a job, so every message can be rebuilt from the store after a restart.
User text is quoted with markdown escaped and shortened; mentions inside it are shown
but never ping (every send also passes `allowed_mentions` limited to the requester).
"""

from __future__ import annotations

from collections.abc import Mapping

import discord

from bot import wording
from bot.formatting import megabytes, took, usd
from bot.jobs.model import Job, JobState, NoticeState
from bot.media.addresses import is_public_https_link
from bot.media.probe import MediaFacts
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest

PROMPT_PREVIEW_CHARS = 600
NEGATIVE_PREVIEW_CHARS = 200
POSTED_LINK_MAX_CHARS = 1500
"""A video link in a message's content: leaves room for the rest within Discord's 2,000."""
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


def describe_options(request: KlingRequest) -> str:
    sound = "sound on" if request.effective_sound else "no sound"
    parts = [
        f"{request.effective_duration} s",
        request.effective_aspect_ratio.value,
        sound,
        f"guidance {request.effective_cfg_scale:g}",
    ]
    if request.multi_prompt:
        parts.append(f"{len(request.multi_prompt)} shots")
    return " · ".join(parts)


def cost_line(job: Job, pricing: Pricing) -> str:
    """The estimate (length × price per second), or the real cost once RunComfy reports it."""
    if job.cost is not None:
        return f"{usd(job.cost)} (estimate was {usd(job.estimated_cost)})"
    request = job.request
    sound = request.effective_sound
    rate = pricing.per_second_with_sound if sound else pricing.per_second
    with_sound = " with sound" if sound else ""
    return f"≈ {usd(job.estimated_cost)} ({request.effective_duration} s × ${rate}/s{with_sound})"


def state_line(job: Job, place_in_line: int | None) -> str:
    label = f"{_ICONS[job.state]} {job.state.label}"
    if job.state is JobState.WAITING and place_in_line is not None:
        label += f" — #{place_in_line} in line"
    elif job.state is JobState.WAITING and job.not_before is not None and job.failure:
        label += " — RunComfy asked the bot to wait; it will try again shortly"
    elif job.state is JobState.QUEUED and job.queue_position is not None:
        label += f" — position {job.queue_position + 1} at RunComfy"
    return label


def cancel_note(job: Job) -> str | None:
    if job.state is JobState.CANCELLED:
        if job.cancelled_by is not None:
            return f"Cancelled by <@{job.cancelled_by}>."
        return None
    if job.state.is_cancellable:
        return "The requester or a moderator can cancel it until generation starts."
    if job.state is JobState.RUNNING:
        return "It can no longer be cancelled: RunComfy is working on it."
    return None


def status_embed(job: Job, *, pricing: Pricing, place_in_line: int | None) -> discord.Embed:
    """The status message's embed for any state of the job."""
    request = job.request
    title = f"Video #{job.id}"
    if job.parent_id is not None:
        title += f" (re-roll of #{job.parent_id})"
    embed = discord.Embed(
        title=title,
        description=quote(request.prompt, PROMPT_PREVIEW_CHARS),
        colour=_COLOURS[job.state],
    )
    embed.add_field(name="Requested by", value=f"<@{job.requester_id}>", inline=True)
    embed.add_field(name="Options", value=describe_options(request), inline=True)
    embed.add_field(name="Status", value=state_line(job, place_in_line), inline=False)
    if request.negative_prompt:
        embed.add_field(
            name="Avoid",
            value=discord.utils.escape_markdown(
                shorten(request.negative_prompt, NEGATIVE_PREVIEW_CHARS)
            ),
            inline=False,
        )
    if request.multi_prompt:
        shots = "\n".join(
            f"{number}. {shot.duration} s — "
            + discord.utils.escape_markdown(shorten(shot.prompt, 80))
            for number, shot in enumerate(request.multi_prompt, start=1)
        )
        embed.add_field(name="Shots", value=shorten(shots, 1000), inline=False)
    started = int(job.created_at)
    timing = f"asked <t:{started}:R>"
    finished = _finished_at(job)
    if finished is not None:
        timing += f", took {took(finished - job.created_at)}"
    embed.add_field(name="Time", value=timing, inline=True)
    embed.add_field(name="Cost", value=cost_line(job, pricing), inline=True)
    deleted_by = job.extra.get("deleted_by")
    deleted = f"🗑️ The video was deleted by <@{deleted_by}>." if deleted_by else None
    notes = [note for note in (job_error(job), cancel_note(job), deleted) if note]
    if notes:
        embed.add_field(name="Note", value=shorten("\n".join(notes), 1000), inline=False)
    embed.set_footer(text=f"Job #{job.id}")
    return embed


def is_showable_link(url: str | None, limit: int) -> bool:
    """A link from RunComfy members may see: public https, and short enough to post whole."""
    return url is not None and len(url) <= limit and is_public_https_link(url)


def shown_link(job: Job, limit: int = POSTED_LINK_MAX_CHARS) -> str:
    """The job's video link as it may be posted, else why not, with what finds the video
    again (its number, RunComfy's request id). Only public https links are ever shown."""
    url = job.output_url
    if is_showable_link(url, limit):
        assert url is not None
        return url
    why = "too long to post" if url and is_public_https_link(url) else "not safe to show"
    request_id = wording.outside_words(job.request_id, 80)
    request = f", RunComfy request id {request_id.replace('`', '')}" if request_id else ""
    return f"(the link RunComfy sent is {why}; ask a moderator: video #{job.id}{request})"


def job_error(job: Job) -> str | None:
    """Why the job failed, or why its result could not be posted (then with the link)."""
    if job.failure is not None and job.state is not JobState.WAITING:
        return wording.failure_text(job.failure, job.failure_detail)
    if job.notice_error and job.notice is NoticeState.FAILED:
        link = ""
        if job.output_url:
            link = f" The video is here for now: {shown_link(job, NOTE_LINK_MAX_CHARS)}"
        why = wording.outside_words(job.notice_error, 300)
        return f"The bot could not post the result: {why}.{link}"
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


MESSAGE_LIMIT = 2000
"""Discord refuses a message longer than this many characters."""
LINK_TOO_LONG = "The link is too long to show in a Discord message; `/video mine` lists it."


def delivery_text(
    job: Job,
    *,
    attached: bool,
    link_reason: str | None = None,
    facts: MediaFacts | None = None,
    fitted_from: int | None = None,
) -> str:
    """The video message: what the file is (read from the file itself), and the link
    when the file is not attached or was re-encoded; always within Discord's limit."""
    lines = [f"<@{job.requester_id}> your video **#{job.id}** is ready! 🎬"]
    about = describe_video(job, facts, fitted_from)
    if about:
        lines.append(about)
    if attached and fitted_from is None:
        return "\n".join(lines)
    assert job.output_url is not None
    shown = shown_link(job)
    safe = shown == job.output_url
    if attached:
        lead = f"Re-encoded to fit here; the original ({megabytes(fitted_from or 0)}) may expire:"
        link = f"<{shown}>" if safe else shown
    else:
        reason = link_reason or "The file could not be attached"
        lead = f"{reason}, so here is the link instead. It may expire, so download it soon:"
        link = shown
    text = "\n".join([*lines, lead, link])
    if len(text) <= MESSAGE_LIMIT:
        return text
    return shorten("\n".join([*lines, lead.removesuffix(":") + ".", LINK_TOO_LONG]), MESSAGE_LIMIT)


def describe_video(job: Job, facts: MediaFacts | None, fitted_from: int | None) -> str:
    """`5.0 s · 1280×720 · 3.2 MB (fitted from 24.1 MB) · cost $0.63`, from what is known."""
    parts: list[str] = []
    if facts is not None:
        size = megabytes(facts.size_bytes)
        if fitted_from is not None:
            size += f" (fitted from {megabytes(fitted_from)})"
        parts += [f"{facts.duration_seconds:.1f} s", f"{facts.width}×{facts.height}", size]
    if job.cost is not None:
        parts.append(f"cost {usd(job.cost)}")
    return " · ".join(parts)


NOTICE_WHAT: Mapping[JobState, str] = {
    JobState.COMPLETED: "is ready!",
    JobState.FAILED: "could not be made.",
    JobState.TIMED_OUT: "is taking longer than expected.",
    JobState.SUBMISSION_UNKNOWN: "may not have reached RunComfy.",
    JobState.CANCELLED: "was cancelled.",
}


def notice_marker(job: Job) -> str:
    """What identifies this job's final message of its current kind in the channel (a
    late video must not be mistaken for the "taking longer" notice before it)."""
    return f"**#{job.id}** {NOTICE_WHAT.get(job.state, 'did not finish.')}"


def failure_text(job: Job) -> str:
    detail = (
        wording.failure_text(job.failure, job.failure_detail)
        if job.failure is not None
        else "No reason was given."
    )
    return f"<@{job.requester_id}> your video {notice_marker(job)} {detail}"


def short_notice_text(job: Job) -> str:
    """The final message in its plainest form, for when Discord refused the full one: the
    mention, the job's number and what happened; the status message has the rest."""
    head = f"<@{job.requester_id}> your video **#{job.id}**"
    if job.state is JobState.COMPLETED:
        return f"{head} is ready. Its link: {shown_link(job, 500)}"
    return f"{head} did not finish; its status message above says why."
