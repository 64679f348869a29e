"""Edit & re-roll: a result card's button opens the job's form, pre-filled with its prompt
and options; what the member sends becomes a new job for them through the desk's
`start_job`, so it meets every check a slash command meets (channel, permissions,
limits, quotas and whatever else the desk asks). A multi-shot job's form is followed by
the multishot form with its shots, as `/video multishot` has it.

The form must be the interaction's first answer, so the job is looked up before
anything is acknowledged, but only for `LOOKUP_SECONDS`: when the store is slower than
that, the button is acknowledged privately and the form offered behind a button, never
costing Discord's three seconds.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Protocol

import discord

from bot.discord_ui.edit_form import (
    EditAgainView,
    EditForm,
    EditValues,
    edit_values,
    edited_request,
    is_multishot,
    shot_values,
)
from bot.discord_ui.job_lookup import reader
from bot.discord_ui.multishot import (
    MAX_SHOTS,
    EditShotsView,
    MultishotOptions,
    shots_submitter,
)
from bot.discord_ui.replies import reply
from bot.i18n import Texts
from bot.jobs.model import Job
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import KlingRequest
from bot.wording import input_refusal

LOOKUP_SECONDS = 1.5
"""How long the form waits for the job before the button is acknowledged without it."""


class EditDesk(Protocol):
    """What Edit & re-roll needs of the job desk."""

    def channel_refusal(self, interaction: discord.Interaction) -> str | None: ...

    async def server_job(self, interaction: discord.Interaction, job_id: int) -> Job | str: ...

    async def start_job(
        self,
        interaction: discord.Interaction,
        request: KlingRequest,
        *,
        parent_id: int | None = None,
    ) -> None: ...


class EditReroll:
    """The button, the form and what sending it does."""

    def __init__(self, desk: EditDesk) -> None:
        self._desk = desk

    async def pressed(self, interaction: discord.Interaction, job_id: int) -> None:
        """Open the job's form (or say why not), privately."""
        refusal = self._desk.channel_refusal(interaction)
        if refusal:
            await reply(interaction, refusal)
            return
        lookup = asyncio.ensure_future(self._desk.server_job(interaction, job_id))
        try:
            await asyncio.wait({lookup}, timeout=LOOKUP_SECONDS)
            if not lookup.done():
                await interaction.response.defer(ephemeral=True, thinking=True)
            found = await lookup
        finally:
            lookup.cancel()
        if isinstance(found, str):
            await reply(interaction, found)
            return
        tr = reader(interaction)
        values = edit_values(found.request, tr)
        if not interaction.response.is_done():
            await interaction.response.send_modal(self.form(found, values, tr))
            return
        view = EditAgainView(
            functools.partial(self.form, found, values, tr),
            interaction.user.id,
            label=tr("button.edit_reroll"),
        )
        await reply(interaction, tr("edit.open_form", job=job_id), view=view)

    def form(self, job: Job, values: EditValues, tr: Texts) -> EditForm:
        submit = functools.partial(self.submitted, job)
        return EditForm(job.id, values, submit, multishot=is_multishot(job.request), tr=tr)

    async def submitted(
        self, job: Job, interaction: discord.Interaction, values: EditValues
    ) -> None:
        """A new job from the form, or a private answer saying what was wrong, with the
        form to reopen as it was typed; a multi-shot job's shots come next."""
        tr = reader(interaction)
        try:
            request = edited_request(values, job.request)
        except KlingInputError as error:
            again = EditAgainView(
                functools.partial(self.form, job, values, tr),
                interaction.user.id,
                label=tr("button.edit_again"),
            )
            await reply(
                interaction, tr("edit.refused", reason=input_refusal(error, tr)), view=again
            )
            return
        if not is_multishot(job.request):
            await self._desk.start_job(interaction, request, parent_id=job.id)
            return
        options = MultishotOptions(
            prompt=request.prompt,
            aspect_ratio=request.aspect_ratio.value if request.aspect_ratio else None,
            negative_prompt=request.negative_prompt,
            cfg_scale=request.cfg_scale,
            sound=request.sound,
        )
        submit = shots_submitter(functools.partial(self._start_reroll, job.id))
        shots = shot_values(job.request, MAX_SHOTS)
        view = EditShotsView(options, shots, submit, interaction.user.id, tr)
        await reply(interaction, tr("edit.now_the_shots", job=job.id), view=view)

    async def _start_reroll(
        self, parent_id: int, interaction: discord.Interaction, request: KlingRequest
    ) -> None:
        await self._desk.start_job(interaction, request, parent_id=parent_id)
