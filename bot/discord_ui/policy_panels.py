"""`/video settings show` beyond the settings: the role tiers, and for moderators and
server managers the blocked terms and blocked members, on pages within Discord's limits
(an embed's description holds 4,096 characters, all of a message's embeds 6,000), turned
with ◀ ▶ by the member who asked.

Blocked terms are shown only to those who manage them or moderate: a list of what is
refused would tell everyone else exactly how to get around it.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord_ui.paging import PagedView
from bot.discord_ui.policy_gate import allowance_text, until_text
from bot.i18n import Texts
from bot.policy.book import ServerPolicy

PAGE_MAX_CHARS = 3800
"""A page's description: within the 4,096 an embed holds, with its title and footer
within the 6,000 of a message."""
PAGE_MAX_LINES = 25


def chunks(lines: Sequence[str], max_chars: int = PAGE_MAX_CHARS) -> list[list[str]]:
    """Lines in pages of at most `max_chars` characters and `PAGE_MAX_LINES` lines."""
    pages: list[list[str]] = []
    page: list[str] = []
    size = 0
    for line in lines:
        line = line[:max_chars]
        if page and (size + len(line) + 1 > max_chars or len(page) >= PAGE_MAX_LINES):
            pages.append(page)
            page, size = [], 0
        page.append(line)
        size += len(line) + 1
    if page:
        pages.append(page)
    return pages


def _tier_lines(policy: ServerPolicy, tr: Texts) -> list[str]:
    lines = []
    for role_id, tier in sorted(policy.tiers.items()):
        lines.append(f"<@&{role_id}> · {allowance_text(tier.allowance, tr)}")
    return lines


def _block_lines(policy: ServerPolicy, now: float, tr: Texts) -> list[str]:
    lines = []
    for user_id, block in sorted(policy.blocks.items()):
        if not block.holds(now):
            continue
        why = (
            tr("policy.by_strikes")
            if block.automatic
            else discord.utils.escape_markdown(block.reason or tr("moderation.no_reason"))
        )
        lines.append(
            tr("policy.block_line", member=f"<@{user_id}>", until=until_text(block.until), why=why)
        )
    return lines


def _pages(title: str, lines: list[str], empty: str) -> list[discord.Embed]:
    return [
        discord.Embed(title=title, description="\n".join(page), colour=discord.Colour.blurple())
        for page in chunks(lines)
    ] or [discord.Embed(title=title, description=empty, colour=discord.Colour.blurple())]


def policy_pages(
    policy: ServerPolicy, *, private: bool, now: float, tr: Texts
) -> list[discord.Embed]:
    """The pages after the settings: tiers, and (`private`) blocked terms and members."""
    tiers = _pages(tr("policy.tiers_title"), _tier_lines(policy, tr), tr("policy.no_tiers"))
    if not private:
        count = len(policy.terms.terms)
        if count:
            tiers[-1].add_field(
                name=tr("policy.terms_title"), value=tr("policy.terms_hidden", count=count)
            )
        return tiers
    terms = [f"• {discord.utils.escape_markdown(term)}" for term in policy.terms.terms]
    terms_title = tr("policy.terms_count", count=len(terms))
    blocks = _block_lines(policy, now, tr)
    return [
        *tiers,
        *_pages(terms_title, terms, tr("policy.no_terms")),
        *_pages(tr("policy.blocks_title"), blocks, tr("policy.no_blocks")),
    ]


class PagesView(PagedView):
    """◀ ▶ through a fixed list of embeds, for the member who asked."""

    def __init__(self, pages: list[discord.Embed], *, owner_id: int, tr: Texts) -> None:
        super().__init__(owner_id=owner_id, tr=tr)
        self.pages = pages
        for number, embed in enumerate(pages, start=1):
            page = tr("policy.page", page=number, pages=len(pages))
            footer = embed.footer.text
            embed.set_footer(text=f"{footer} · {page}" if footer else page)
        self.update_buttons()

    @property
    def page_count(self) -> int:
        return len(self.pages)

    async def show(self, interaction: discord.Interaction) -> None:
        self.update_buttons()
        await interaction.response.edit_message(embed=self.pages[self.page], view=self)
