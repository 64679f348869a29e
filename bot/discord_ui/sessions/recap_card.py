"""The recap: theme, winners (mentioned, with their votes; ties share a place), the top
three with the way to each entry, how many entries and voters, and the total cost.

Drawn once voting is over from the session's final table, the same in the channel and
the thread; only the channel's copy pings the winners. Its last line names the session,
which is how a copy posted before a crash is found again instead of posted twice.
"""

from __future__ import annotations

from collections.abc import Mapping

import discord

from bot.discord_ui.sessions.cards import theme_text
from bot.formatting import as_many_as_fit
from bot.i18n import Texts
from bot.sessions.standings import Recap, Standing

MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}
WINNERS_CHARS = 1200
PODIUM_LINES = 10
"""At most this many entries under "top three" (a tie can place many), then how many more."""
PINGED_WINNERS = 100
"""Discord's most users one message may ping by id."""


def marker(session_id: int, tr: Texts) -> str:
    """The recap's last line, which names its session."""
    return tr("recap.footer", session=session_id)


def _votes(standing: Standing, tr: Texts) -> str:
    return tr.plural("recap.votes", standing.votes)


def winners_text(recap: Recap, tr: Texts) -> str:
    winners = recap.winners
    if not winners:
        return tr("recap.no_winner")
    names = [f"<@{s.requester_id}> ({_votes(s, tr)})" for s in winners]
    shown = as_many_as_fit(
        names,
        separator=", ",
        limit=WINNERS_CHARS,
        more=lambda hidden: tr("list.and_more", count=hidden),
    )
    return tr.plural("recap.winners", len(winners), names=shown)


def podium_text(recap: Recap, links: Mapping[int, str], tr: Texts) -> str | None:
    podium = recap.podium
    if not podium:
        return None
    lines = [tr("recap.podium")]
    for standing in podium[:PODIUM_LINES]:
        link = links.get(standing.entry_id)
        entry = f"[#{standing.entry_id}]({link})" if link else f"#{standing.entry_id}"
        lines.append(
            tr(
                "recap.podium_line",
                medal=MEDALS.get(standing.place, "🏅"),
                entry=entry,
                member=f"<@{standing.requester_id}>",
                votes=_votes(standing, tr),
            )
        )
    hidden = len(podium) - PODIUM_LINES
    if hidden > 0:
        lines.append(tr("list.and_more", count=hidden))
    return "\n".join(lines)


def numbers_text(recap: Recap, tr: Texts) -> str:
    return " · ".join(
        [
            tr.plural("recap.entries", recap.entries),
            tr.plural("recap.voters", recap.voters),
            tr("recap.cost", cost=tr.usd(recap.total_cost)),
        ]
    )


def recap_card(recap: Recap, links: Mapping[int, str], tr: Texts) -> discord.ui.LayoutView:
    """`links`: each placed entry's message, where it is known."""
    texts = [
        tr("recap.title", theme=theme_text(recap.session.theme)),
        winners_text(recap, tr),
        podium_text(recap, links, tr),
        numbers_text(recap, tr),
        marker(recap.session.id, tr),
    ]
    view = discord.ui.LayoutView(timeout=None)
    view.add_item(
        discord.ui.Container(
            *(discord.ui.TextDisplay(text) for text in texts if text),
            accent_colour=discord.Colour.gold(),
        )
    )
    return view


def recap_mentions(recap: Recap, *, ping: bool) -> discord.AllowedMentions:
    """The winners, in the copy that pings; nobody in the other."""
    users = [discord.Object(s.requester_id) for s in recap.winners[:PINGED_WINNERS]] if ping else []
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)
