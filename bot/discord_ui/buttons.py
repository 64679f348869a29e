"""Buttons that keep working after a restart: the action and job id live in the custom id.

One `DynamicItem`, registered once with `bot.add_dynamic_items`, so discord.py rebuilds
any job button from a message's custom id without the bot remembering the message.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.discord_ui.permissions import JobAction
from bot.discord_ui.render import public_texts
from bot.discord_ui.replies import AnsweringView, answer_failure, taken
from bot.i18n import Texts, english
from bot.jobs.model import Failure, Job, JobState

_LOOKS: dict[JobAction, tuple[str, discord.ButtonStyle, str]] = {
    JobAction.CANCEL: ("button.cancel", discord.ButtonStyle.danger, "✖️"),
    JobAction.REROLL: ("button.reroll", discord.ButtonStyle.secondary, "🎲"),
    JobAction.EDIT: ("button.edit_reroll", discord.ButtonStyle.secondary, "✏️"),
    JobAction.DELETE: ("button.delete", discord.ButtonStyle.danger, "🗑️"),
}
"""Each button's catalog key, style and emoji."""


class JobButtonHandler(Protocol):
    async def cancel_pressed(self, interaction: discord.Interaction, job_id: int) -> None: ...

    async def reroll_pressed(self, interaction: discord.Interaction, job_id: int) -> None: ...

    async def edit_pressed(self, interaction: discord.Interaction, job_id: int) -> None: ...

    async def delete_pressed(self, interaction: discord.Interaction, job_id: int) -> None: ...


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"video:(?P<action>cancel|reroll|edit|delete):(?P<job_id>[0-9]{1,20})",
):
    """Cancel (requester or moderator), Re-roll and Edit & re-roll (anyone, on their
    quota), Delete (requester or moderator)."""

    def __init__(
        self, action: JobAction, job_id: int, *, label: str | None = None, tr: Texts | None = None
    ) -> None:
        self.action = action
        self.job_id = job_id
        key, style, emoji = _LOOKS[action]
        super().__init__(
            discord.ui.Button(
                label=label or (tr or english())(key),
                style=style,
                emoji=emoji,
                custom_id=f"video:{action.value}:{job_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> JobButton:
        return cls(JobAction(match["action"]), int(match["job_id"]))

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await taken(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        """discord.py only logs a dynamic item's failure, so it is answered here."""
        try:
            handler: JobButtonHandler | None = getattr(interaction.client, "desk", None)
            if handler is None:
                raise RuntimeError("the bot has no job desk yet")
            press = {
                JobAction.CANCEL: handler.cancel_pressed,
                JobAction.REROLL: handler.reroll_pressed,
                JobAction.EDIT: handler.edit_pressed,
                JobAction.DELETE: handler.delete_pressed,
            }[self.action]
            await press(interaction, self.job_id)
        except Exception as error:
            await answer_failure(interaction, error, f"{self.action} button of job {self.job_id}")


def _view(*buttons: JobButton) -> discord.ui.View:
    view = AnsweringView(timeout=None)
    for button in buttons:
        view.add_item(button)
    return view


def notice_buttons(job: Job, tr: Texts | None = None) -> list[JobButton]:
    """The buttons on a job's final message: re-roll, edit & re-roll and delete a video;
    try a failure again; none where trying again would pay twice (taking longer)."""
    tr = tr or public_texts(job)
    if job.state is JobState.COMPLETED:
        actions = (JobAction.REROLL, JobAction.EDIT, JobAction.DELETE)
        return [JobButton(action, job.id, tr=tr) for action in actions]
    if job.state is JobState.FAILED or job.failure is Failure.NOT_STARTED_BY_DEADLINE:
        return [JobButton(JobAction.REROLL, job.id, label=tr("button.try_again"))]
    return []


def job_view(job: Job) -> discord.ui.View | None:
    """The buttons a job's status message shows right now (None removes them)."""
    if not job.state.is_cancellable:
        return None
    return _view(JobButton(JobAction.CANCEL, job.id, tr=public_texts(job)))
