"""The private panels behind `/video mine`, `queue`, `usage` and `settings show`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import discord

from bot.discord_ui.render import eta_line, is_showable_link, jump_url, shorten, state_label
from bot.formatting import age, as_many_as_fit
from bot.i18n import Texts, english
from bot.jobs.eta import Eta
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


def fit_lines(
    lines: Sequence[str], limit: int = DESCRIPTION_MAX_CHARS, tr: Texts | None = None
) -> str:
    """Lines joined by newlines, as many as fit in `limit`, then how many were left out."""
    tr = tr or english()
    return as_many_as_fit(
        lines, separator="\n", limit=limit, more=lambda hidden: tr("panel.and_more", count=hidden)
    )


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


def mine_embed(
    jobs: Sequence[Job],
    tr: Texts | None = None,
    *,
    eta_of: Callable[[Job], Eta | None] = lambda job: None,
    now: float = 0.0,
) -> discord.Embed:
    """The member's latest jobs; those still waited for with the estimate their status
    message shows (`eta_of`, read at `now`)."""
    tr = tr or english()
    embed = discord.Embed(title=tr("panel.mine_title"), colour=discord.Colour.blurple())
    if not jobs:
        embed.description = tr("desk.no_jobs_yet")
        return embed
    lines = []
    for job in jobs:
        link = result_link(job)
        state = state_label(job.state, tr)
        label = f"[{state}]({link})" if link else state
        seconds = tr("unit.seconds", seconds=job.request.effective_duration)
        ready = eta_line(eta_of(job), now, tr)
        when = f" · {ready}" if ready else ""
        lines.append(
            f"**#{job.id}** · {label}{when} · {seconds} · "
            f"<t:{int(job.created_at)}:R>\n{prompt_preview(job)}"
        )
    embed.description = fit_lines(lines, tr=tr)
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
    tr: Texts | None = None,
) -> discord.Embed:
    tr = tr or english()
    pages = max(1, -(-len(jobs) // QUEUE_PAGE_SIZE))
    embed = discord.Embed(title=tr("panel.queue_title"), colour=discord.Colour.blurple())
    if not jobs:
        embed.description = tr("panel.queue_empty")
        return embed
    start = page * QUEUE_PAGE_SIZE
    lines = []
    for number, job in enumerate(jobs[start : start + QUEUE_PAGE_SIZE], start=start + 1):
        where = ""
        if job.state is JobState.QUEUED and job.queue_position is not None:
            where = tr("panel.position", position=job.queue_position + 1)
        elif job.state is JobState.WAITING:
            place = place_in_line(job.id)
            where = tr("panel.in_line", place=place) if place else ""
        waited = age(now - job.created_at, tr)
        state = state_label(job.state, tr)
        lines.append(
            f"{number}. **#{job.id}** <@{job.requester_id}> · {state}{where} · {waited}\n"
            f"{prompt_preview(job, 50)}"
        )
    embed.description = fit_lines(lines, tr=tr)
    embed.set_footer(text=tr.plural("panel.page", len(jobs), page=page + 1, pages=pages))
    return embed


def usage_embed(
    *,
    mine_today: Usage,
    mine_month: Usage,
    server_today: Usage,
    server_month: Usage,
    settings: ServerSettings,
    tr: Texts | None = None,
) -> discord.Embed:
    tr = tr or english()
    embed = discord.Embed(title=tr("usage.title"), colour=discord.Colour.blurple())
    quota = settings.daily_seconds_per_user
    you = tr(
        "usage.today_month", today=usage_line(mine_today, tr), month=usage_line(mine_month, tr)
    )
    if quota is not None:
        left = max(0, quota - mine_today.seconds)
        you += "\n" + tr("usage.quota", quota=tr.integer(quota), left=tr.integer(left))
    embed.add_field(name=tr("usage.you"), value=you, inline=False)
    server = tr(
        "usage.today_month", today=usage_line(server_today, tr), month=usage_line(server_month, tr)
    )
    budget = settings.daily_budget_usd
    if budget is not None:
        left_money = max(Decimal(0), budget - server_today.dollars)
        server += "\n" + tr("usage.budget", budget=tr.usd(budget), left=tr.usd(left_money))
    embed.add_field(name=tr("usage.server"), value=server, inline=False)
    embed.set_footer(text=tr("usage.footer"))
    return embed


def settings_embed(settings: ServerSettings, tr: Texts | None = None) -> discord.Embed:
    """Every setting, its value and where it comes from."""
    tr = tr or english()
    embed = discord.Embed(title=tr("settings.title"), colour=discord.Colour.blurple())
    for spec in SPECS.values():
        shown = spec.show(settings.value(spec.key), tr)
        source = tr(f"setting.source.{settings.source(spec.key).name.lower()}")
        embed.add_field(name=spec.label_in(tr), value=f"{shown}\n*{source}*", inline=True)
    embed.set_footer(text=tr("settings.footer"))
    return embed
