"""◀ ▶ pages in a private panel, for the member who asked: the one pager the panels share
(`/video queue`, the settings' tiers, terms and blocks)."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord_ui.replies import AnsweringView
from bot.i18n import Texts


class PagedView(AnsweringView):
    """Turns `page` within `page_count` and calls `show`; only the owner may press, and
    the buttons are off at either end."""

    def __init__(self, *, owner_id: int, tr: Texts, timeout: float = 10 * 60) -> None:
        super().__init__(timeout=timeout)
        self._owner_id = owner_id
        self.page = 0
        self.previous.label = tr("button.previous")
        self.next.label = tr("button.next")

    @property
    def page_count(self) -> int:
        raise NotImplementedError

    async def show(self, interaction: discord.Interaction) -> None:
        """Answer the press with the panel at `page`."""
        raise NotImplementedError

    def update_buttons(self) -> None:
        self.page = max(0, min(self.page, self.page_count - 1))
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.page_count - 1

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return interaction.user.id == self._owner_id and await super().interaction_check(
            interaction
        )

    @discord.ui.button(style=discord.ButtonStyle.secondary, emoji="◀️")
    async def previous(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        self.page -= 1
        await self.show(interaction)

    @discord.ui.button(style=discord.ButtonStyle.secondary, emoji="▶️")
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.page += 1
        await self.show(interaction)
