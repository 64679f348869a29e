"""Buttons that keep working after a restart: the job id lives in the custom id.

Each is a `DynamicItem`, registered once with `bot.add_dynamic_items`, so discord.py
rebuilds it from any message's custom id without the bot remembering the message.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.jobs.model import Job, JobState


class JobButtonHandler(Protocol):
    async def cancel_pressed(self, interaction: discord.Interaction, job_id: int) -> None: ...

    async def reroll_pressed(self, interaction: discord.Interaction, job_id: int) -> None: ...

    async def delete_pressed(self, interaction: discord.Interaction, job_id: int) -> None: ...


def _handler(interaction: discord.Interaction) -> JobButtonHandler:
    handler = interaction.client.get_cog("Video")
    if handler is None:
        raise RuntimeError("the Video cog is not loaded")
    return handler  # type: ignore[return-value]


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"video:cancel:(?P<job_id>[0-9]{1,20})"
):
    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(
            discord.ui.Button(
                label="Cancel",
                style=discord.ButtonStyle.danger,
                emoji="✖️",
                custom_id=f"video:cancel:{job_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> CancelButton:
        return cls(int(match["job_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _handler(interaction).cancel_pressed(interaction, self.job_id)


class RerollButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"video:reroll:(?P<job_id>[0-9]{1,20})"
):
    """Same parameters, a new job for whoever presses it (and on their quota)."""

    def __init__(self, job_id: int, *, label: str = "Re-roll") -> None:
        self.job_id = job_id
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                emoji="🎲",
                custom_id=f"video:reroll:{job_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> RerollButton:
        return cls(int(match["job_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _handler(interaction).reroll_pressed(interaction, self.job_id)


class DeleteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"video:delete:(?P<job_id>[0-9]{1,20})"
):
    """Removes the posted video; for its requester or a moderator."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(
            discord.ui.Button(
                label="Delete",
                style=discord.ButtonStyle.danger,
                emoji="🗑️",
                custom_id=f"video:delete:{job_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> DeleteButton:
        return cls(int(match["job_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _handler(interaction).delete_pressed(interaction, self.job_id)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    CancelButton,
    RerollButton,
    DeleteButton,
)


def notice_view(job: Job) -> discord.ui.View | None:
    """Buttons under a job's final message: re-roll and delete a video, retry a failure."""
    view = discord.ui.View(timeout=None)
    if job.state is JobState.COMPLETED:
        view.add_item(RerollButton(job.id))
        view.add_item(DeleteButton(job.id))
    elif job.state in (JobState.FAILED, JobState.TIMED_OUT):
        view.add_item(RerollButton(job.id, label="Try again"))
    else:
        return None
    return view


def job_view(job: Job) -> discord.ui.View | None:
    """The buttons a job's status message shows right now (None removes them)."""
    if not job.state.is_cancellable:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job.id))
    return view
