"""The private panels behind `/video mine`, `queue`, `usage` and `settings show`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import discord

from bot.discord_ui.render import (
    eta_line,
    is_showable_link,
    jump_url,
    shorten,
    shown_link,
    state_label,
)
from bot.formatting import age, as_many_as_fit
from bot.i18n import Texts, english
from bot.jobs.eta import Eta
from bot.jobs.model import Job, JobState
from bot.jobs.usage import Usage
from bot.policy.tiers import Allowance
from bot.server_settings import SPECS, ServerSettings, listed
from bot.wording import usage_line

QUEUE_PAGE_SIZE = 10
MINE_LINK_MAX_CHARS = 200
"""Ten jobs with links this long fit an embed description (4,096)."""
DESCRIPTION_MAX_CHARS = 4096
TIER_ROLES_MAX_CHARS = 300
"""The roles a member's tier comes from, in `/video usage` (a field holds 1,024)."""
FIELD_MAX_CHARS = 1024
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


def result_link(job: Job, where: int | None = None) -> str | None:
    """Where the result is: the posted video (in `where`, when not the job's own channel),
    else its link (public https only), else the status message."""
    if job.notice_message_id is not None and job.state is JobState.DELIVERED:
        return jump_url(job.guild_id, where or job.channel_id, job.notice_message_id)
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
    left_behind: Sequence[Job] = (),
    where: Callable[[Job], int | None] = lambda job: None,
) -> discord.Embed:
    """The member's latest jobs here, those still waited for with the estimate their status
    message shows (`eta_of`, read at `now`); `left_behind`: their videos from servers the
    bot left; `where`: the channel of a video posted elsewhere than its job's (an entry's
    gallery)."""
    tr = tr or english()
    embed = discord.Embed(title=tr("panel.mine_title"), colour=discord.Colour.blurple())
    if jobs:
        lines = [mine_line(job, tr, eta=eta_of(job), now=now, where=where(job)) for job in jobs]
        embed.description = fit_lines(lines, tr=tr)
    else:
        embed.description = tr("desk.no_jobs_yet")
    if left_behind:
        lines = [left_behind_line(job, tr) for job in left_behind]
        embed.add_field(
            name=tr("panel.mine_left_servers"),
            value=fit_lines(lines, FIELD_MAX_CHARS, tr),
            inline=False,
        )
    return embed


def mine_line(
    job: Job, tr: Texts, *, eta: Eta | None = None, now: float = 0.0, where: int | None = None
) -> str:
    link = result_link(job, where)
    state = state_label(job.state, tr)
    label = f"[{state}]({link})" if link else state
    seconds = tr("unit.seconds", seconds=job.request.effective_duration)
    ready = eta_line(eta, now, tr)
    when = f" · {ready}" if ready else ""
    return (
        f"**#{job.id}** · {label}{when} · {seconds} · <t:{int(job.created_at)}:R>\n"
        f"{prompt_preview(job)}"
    )


def left_behind_line(job: Job, tr: Texts) -> str:
    """A video from a server the bot left: its link, else what finds it again (its status
    message is out of reach)."""
    link = shown_link(job, MINE_LINK_MAX_CHARS, tr)
    return f"**#{job.id}** · {link} · <t:{int(job.created_at)}:R>\n{prompt_preview(job)}"


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
    allowance: Allowance | None = None,
    tr: Texts | None = None,
) -> discord.Embed:
    """What was spent; the member's daily quota and what else their allowance (their role
    tier, else the server's default) lets them make."""
    tr = tr or english()
    embed = discord.Embed(title=tr("usage.title"), colour=discord.Colour.blurple())
    quota = allowance.daily_seconds if allowance is not None else settings.daily_seconds_per_user
    you = tr(
        "usage.today_month", today=usage_line(mine_today, tr), month=usage_line(mine_month, tr)
    )
    if quota is not None:
        left = max(0, quota - mine_today.seconds)
        you += "\n" + tr("usage.quota", quota=tr.integer(quota), left=tr.integer(left))
    if allowance is not None:
        you += "\n" + usage_allowance(allowance, tr)
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


def usage_allowance(allowance: Allowance, tr: Texts) -> str:
    """The member's allowance besides the daily quota, and the roles that give it."""
    sound = tr("tier.sound") if allowance.sound else tr("tier.no_sound")
    line = tr(
        "usage.allowance",
        longest=allowance.longest_seconds,
        sound=sound,
        at_once=allowance.jobs_at_once,
    )
    if not allowance.from_tiers:
        return line
    roles = listed([f"<@&{role}>" for role in allowance.role_ids], TIER_ROLES_MAX_CHARS, tr)
    return line + "\n" + tr("usage.tier_roles", roles=roles)


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
