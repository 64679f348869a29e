"""How a session looks: its card in the channel (the gallery thread hangs from it), its
status for `/session status`, and the server's leaderboard. Pure functions of what the
store says, in the reader's language, within Discord's limits (tests/bot/discord_ui
check them with the longest theme and many members in both languages)."""

from __future__ import annotations

import discord

from bot.discord_ui.render import jump_url, shorten
from bot.i18n import Texts
from bot.sessions.model import Session, SessionState
from bot.sessions.service import SessionStats
from bot.sessions.standings import LeaderRow

THREAD_NAME_CHARS = 100
"""Discord's longest thread name."""

_COLOURS = {
    SessionState.OPEN: discord.Colour.green(),
    SessionState.VOTING: discord.Colour.blurple(),
    SessionState.RECAP: discord.Colour.gold(),
    SessionState.CLOSED: discord.Colour.gold(),
    SessionState.CANCELLED: discord.Colour.dark_grey(),
}


def theme_text(theme: str, limit: int = 200) -> str:
    """A theme as members typed it, on one line, with markdown shown as typed."""
    return discord.utils.escape_markdown(shorten(" ".join(theme.split()), limit))


def thread_name(theme: str) -> str:
    return shorten(" ".join(theme.split()), THREAD_NAME_CHARS) or "…"


def when(at: float, style: str = "R") -> str:
    """A Discord timestamp: every reader sees it in their own language and time zone."""
    return f"<t:{int(at)}:{style}>"


def phase_line(session: Session, stats: SessionStats, tr: Texts) -> str:
    """Where the session is, and what happens next."""
    match session.state:
        case SessionState.OPEN:
            return tr(
                "session.phase.open",
                host=f"<@{session.host_id}>",
                close=when(session.entries_close_at),
                at=when(session.entries_close_at, "t"),
            )
        case SessionState.VOTING:
            ends = session.voting_ends_at(stats.last_delivered)
            if stats.pending or ends is None:
                return tr.plural(
                    "session.phase.waiting", stats.pending, minutes=session.vote_minutes
                )
            return tr("session.phase.voting", ends=when(ends), at=when(ends, "t"))
        case SessionState.RECAP:
            return tr("session.phase.recap")
        case SessionState.CLOSED:
            message = session.recap_channel_message_id
            if message:
                return tr(
                    "session.phase.closed_link",
                    link=jump_url(session.guild_id, session.channel_id, message),
                )
            return tr("session.phase.closed")
        case SessionState.CANCELLED:
            return tr("session.phase.cancelled", by=f"<@{session.cancelled_by or session.host_id}>")


def rules_text(session: Session, votes_per_member: int, tr: Texts) -> str:
    lines = [tr.plural("session.rules.entries", session.entries_per_member)]
    if session.budget is not None:
        lines.append(tr("session.rules.budget", budget=tr.usd(session.budget)))
    lines.append(tr.plural("session.rules.votes", votes_per_member, minutes=session.vote_minutes))
    return "\n".join(lines)


def so_far(stats: SessionStats, tr: Texts) -> str:
    return tr.plural("session.so_far", stats.entries, cost=tr.usd(stats.spent))


def session_card(
    session: Session, stats: SessionStats, *, votes_per_member: int, tr: Texts
) -> discord.ui.LayoutView:
    """The card in the channel, which the gallery thread is opened from. Its last line
    names the session, so the card can be told apart from another session's."""
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(
        discord.ui.Container(
            discord.ui.TextDisplay(tr("session.card.title", theme=theme_text(session.theme))),
            discord.ui.TextDisplay(phase_line(session, stats, tr)),
            discord.ui.Separator(),
            discord.ui.TextDisplay(rules_text(session, votes_per_member, tr)),
            discord.ui.TextDisplay(so_far(stats, tr)),
            discord.ui.TextDisplay(tr("session.card.footer", session=session.id)),
            accent_colour=_COLOURS[session.state],
        )
    )
    return view


def status_embed(
    session: Session,
    stats: SessionStats,
    *,
    mine: int,
    votes_used: int,
    votes_per_member: int,
    tr: Texts,
) -> discord.Embed:
    """`/session status`: the session, and where the member stands in it."""
    embed = discord.Embed(
        title=shorten(tr("session.status.title", theme=theme_text(session.theme)), 256),
        description=phase_line(session, stats, tr),
        colour=_COLOURS[session.state],
    )
    embed.add_field(
        name=tr("session.status.entries"),
        value=tr("session.status.of", used=mine, allowed=session.entries_per_member),
        inline=True,
    )
    embed.add_field(
        name=tr("session.status.votes"),
        value=tr("session.status.of", used=votes_used, allowed=votes_per_member),
        inline=True,
    )
    embed.add_field(name=tr("session.status.so_far"), value=so_far(stats, tr), inline=False)
    if session.budget is not None:
        left = max(session.budget - stats.estimated, type(session.budget)(0))
        embed.add_field(
            name=tr("session.status.budget"),
            value=tr(
                "session.status.budget_left", left=tr.usd(left), budget=tr.usd(session.budget)
            ),
            inline=True,
        )
    if session.thread_id is not None:
        embed.add_field(
            name=tr("session.status.gallery"), value=f"<#{session.thread_id}>", inline=True
        )
    embed.set_footer(text=tr("session.card.footer", session=session.id))
    return embed


LEADERBOARD_SIZE = 10


def leaderboard_embed(rows: list[LeaderRow], tr: Texts) -> discord.Embed:
    """The server's top members over its finished sessions (members who left included)."""
    embed = discord.Embed(title=tr("leaderboard.title"), colour=discord.Colour.gold())
    if not rows:
        embed.description = tr("leaderboard.empty")
        return embed
    medals = {1: "🥇", 2: "🥈", 3: "🥉"}
    embed.description = "\n".join(
        tr(
            "leaderboard.line",
            place=medals.get(place, f"{place}."),
            member=f"<@{row.member_id}>",
            wins=row.wins,
            entries=row.entries,
            votes=row.votes,
        )
        for place, row in enumerate(rows, start=1)
    )
    embed.set_footer(text=tr("leaderboard.footer"))
    return embed
