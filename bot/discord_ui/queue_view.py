"""The `/video queue` panel: pages of the server's jobs, and for moderators a cancel menu
listing the jobs of the channels they moderate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.discord_ui.paging import PagedView
from bot.discord_ui.panels import QUEUE_PAGE_SIZE, prompt_preview, queue_embed
from bot.discord_ui.render import shorten, state_label
from bot.i18n import Texts, english
from bot.jobs.model import Job

CancelJob = Callable[[discord.Interaction, int], Awaitable[str]]


def cancel_option(job: Job, tr: Texts | None = None) -> discord.SelectOption:
    """A job in the cancel menu; label and description within Discord's 100 characters."""
    return discord.SelectOption(
        label=f"#{job.id} · {state_label(job.state, tr)}"[:100],
        description=shorten(prompt_preview(job, 90), 100),
        value=str(job.id),
    )


class QueueView(PagedView):
    """Private to the member who asked; rebuilt from the tracker on every page turn."""

    def __init__(
        self,
        *,
        owner_id: int,
        load: Callable[[], list[Job]],
        place_in_line: Callable[[int], int | None],
        now: Callable[[], float],
        cancel: CancelJob | None,
        may_cancel: Callable[[Job], bool] = lambda job: True,
        tr: Texts | None = None,
    ) -> None:
        self._tr = tr or english()
        super().__init__(owner_id=owner_id, tr=self._tr)
        self._load = load
        self._place_in_line = place_in_line
        self._now = now
        self._cancel = cancel
        self._may_cancel = may_cancel
        self.jobs: list[Job] = []
        self.refresh()

    @property
    def page_count(self) -> int:
        return max(1, -(-len(self.jobs) // QUEUE_PAGE_SIZE))

    def refresh(self) -> None:
        self.jobs = self._load()
        self.update_buttons()
        self._build_cancel_menu()

    def embed(self) -> discord.Embed:
        return queue_embed(
            self.jobs,
            page=self.page,
            now=self._now(),
            place_in_line=self._place_in_line,
            tr=self._tr,
        )

    def _build_cancel_menu(self) -> None:
        for child in list(self.children):
            if isinstance(child, discord.ui.Select):
                self.remove_item(child)
        if self._cancel is None:
            return
        start = self.page * QUEUE_PAGE_SIZE
        cancellable = [
            job
            for job in self.jobs[start : start + QUEUE_PAGE_SIZE]
            if job.state.is_cancellable and self._may_cancel(job)
        ]
        if not cancellable:
            return
        menu: discord.ui.Select[Any] = discord.ui.Select(
            placeholder=self._tr("panel.cancel_menu"),
            options=[cancel_option(job, self._tr) for job in cancellable],
            custom_id="video:queue:cancel",
        )
        menu.callback = self._cancel_selected  # type: ignore[method-assign]
        self.add_item(menu)

    async def show(self, interaction: discord.Interaction) -> None:
        self.refresh()
        await interaction.response.edit_message(content=None, embed=self.embed(), view=self)

    async def _cancel_selected(self, interaction: discord.Interaction) -> None:
        """Acknowledged first: cancelling asks RunComfy, which may take a while."""
        assert self._cancel is not None
        menu = next(child for child in self.children if isinstance(child, discord.ui.Select))
        job_id = int(menu.values[0])
        await interaction.response.defer()
        note = await self._cancel(interaction, job_id)
        self.refresh()
        await interaction.edit_original_response(content=note, embed=self.embed(), view=self)
