"""The private panels behind `/video mine`, `queue`, `usage` and `settings show`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import discord

from bot.discord_ui.render import is_showable_link, shorten
from bot.formatting import age, as_many_as_fit, usd
from bot.jobs.model import Job, JobState
from bot.jobs.usage import Usage
from bot.server_settings import SPECS, ServerSettings
from bot.wording import usage_line

QUEUE_PAGE_SIZE = 10
MINE_LINK_MAX_CHARS = 200
"""Ten jobs with links this long fit an embed description (4,096)."""
DESCRIPTION_MAX_CHARS = 4096
_QUEUE_ORDER = {
    JobState.RUNNING: 0,
    JobState.SUBMITTING: 1,
    JobState.QUEUED: 2,
    JobState.WAITING: 3,
}


def fit_lines(lines: Sequence[str], limit: int = DESCRIPTION_MAX_CHARS) -> str:
    """Lines joined by newlines, as many as fit in `limit`, then how many were left out."""
    return as_many_as_fit(
        lines, separator="\n", limit=limit, more=lambda hidden: f"…and {hidden} more"
    )


def jump_url(guild_id: int | None, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"


def prompt_preview(job: Job, limit: int = 60) -> str:
    return discord.utils.escape_markdown(shorten(" ".join(job.request.prompt.split()), limit))


def result_link(job: Job) -> str | None:
    """Where the result is: the posted video, else its link (public https only), else the
    status message."""
    if job.notice_message_id is not None and job.state is JobState.DELIVERED:
        return jump_url(job.guild_id, job.channel_id, job.notice_message_id)
    if is_showable_link(job.output_url, MINE_LINK_MAX_CHARS):
        return job.output_url
    if job.status_message_id is not None:
        return jump_url(job.guild_id, job.channel_id, job.status_message_id)
    return None


def mine_embed(jobs: Sequence[Job]) -> discord.Embed:
    embed = discord.Embed(title="Your recent videos", colour=discord.Colour.blurple())
    if not jobs:
        embed.description = "You have not asked for any videos in this server yet."
        return embed
    lines = []
    for job in jobs:
        link = result_link(job)
        label = f"[{job.state.label}]({link})" if link else job.state.label
        lines.append(
            f"**#{job.id}** · {label} · {job.request.effective_duration} s · "
            f"<t:{int(job.created_at)}:R>\n{prompt_preview(job)}"
        )
    embed.description = fit_lines(lines)
    return embed


def queue_order(jobs: Sequence[Job], place_in_line: Callable[[int], int | None]) -> list[Job]:
    """Generating first, then RunComfy's queue by position, then the bot's own line."""

    def key(job: Job) -> tuple[int, int, int]:
        if job.state is JobState.QUEUED:
            position = job.queue_position if job.queue_position is not None else 10**6
        elif job.state is JobState.WAITING:
            position = place_in_line(job.id) or 10**6
        else:
            position = 0
        return (_QUEUE_ORDER.get(job.state, 9), position, job.id)

    return sorted((job for job in jobs if job.state in _QUEUE_ORDER), key=key)


def queue_embed(
    jobs: Sequence[Job],
    *,
    page: int,
    now: float,
    place_in_line: Callable[[int], int | None],
) -> discord.Embed:
    pages = max(1, -(-len(jobs) // QUEUE_PAGE_SIZE))
    embed = discord.Embed(
        title="Videos in progress on this server", colour=discord.Colour.blurple()
    )
    if not jobs:
        embed.description = "Nothing is waiting or generating right now."
        return embed
    start = page * QUEUE_PAGE_SIZE
    lines = []
    for number, job in enumerate(jobs[start : start + QUEUE_PAGE_SIZE], start=start + 1):
        where = ""
        if job.state is JobState.QUEUED and job.queue_position is not None:
            where = f" (position {job.queue_position + 1})"
        elif job.state is JobState.WAITING:
            place = place_in_line(job.id)
            where = f" (#{place} in line)" if place else ""
        waited = age(now - job.created_at)
        lines.append(
            f"{number}. **#{job.id}** <@{job.requester_id}> · {job.state.label}{where} · {waited}\n"
            f"{prompt_preview(job, 50)}"
        )
    embed.description = fit_lines(lines)
    embed.set_footer(text=f"Page {page + 1} of {pages} · {len(jobs)} videos")
    return embed


def usage_embed(
    *,
    mine_today: Usage,
    mine_month: Usage,
    server_today: Usage,
    server_month: Usage,
    settings: ServerSettings,
) -> discord.Embed:
    embed = discord.Embed(title="Video usage", colour=discord.Colour.blurple())
    quota = settings.daily_seconds_per_user
    you = f"Today: {usage_line(mine_today)}\nThis month: {usage_line(mine_month)}"
    if quota is not None:
        left = max(0, quota - mine_today.seconds)
        you += f"\nDaily quota: {quota} s ({left} s left today)"
    embed.add_field(name="You", value=you, inline=False)
    server = f"Today: {usage_line(server_today)}\nThis month: {usage_line(server_month)}"
    budget = settings.daily_budget_usd
    if budget is not None:
        left_money = max(Decimal(0), budget - server_today.dollars)
        server += f"\nDaily budget: {usd(budget)} ({usd(left_money)} left today)"
    embed.add_field(name="This server", value=server, inline=False)
    embed.set_footer(text="Days and months are UTC. Finished videos count their real cost.")
    return embed


def settings_embed(settings: ServerSettings) -> discord.Embed:
    """Every setting, its value and where it comes from."""

    embed = discord.Embed(title="Video settings for this server", colour=discord.Colour.blurple())
    for spec in SPECS.values():
        shown = spec.show(settings.value(spec.key))
        source = settings.source(spec.key).value
        embed.add_field(name=spec.label, value=f"{shown}\n*{source}*", inline=True)
    embed.set_footer(
        text="Change them with /video settings …; reset one with /video settings reset."
    )
    return embed
