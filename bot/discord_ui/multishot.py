"""`/video multishot`: an overall prompt plus 2–5 shots, each with its own prompt and length.

The shots are typed in a modal, one box per shot, as `seconds | prompt`. Every rule is
checked before anything is sent, errors name the shot that is wrong, and a refused
form can be reopened with everything the member typed still in it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import discord

from bot.discord_ui.replies import AnsweringModal, AnsweringView, reply
from bot.i18n import Texts, english, texts
from bot.runcomfy.given import has_visible_text
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import (
    DURATION_MAX,
    DURATION_MIN,
    INVISIBLE_ONLY,
    PROMPT_MAX_CHARS,
    KlingRequest,
    Shot,
    ShotType,
)
from bot.wording import input_refusal

MIN_SHOTS = 2
MAX_SHOTS = 5
SHOT_LINE = re.compile(
    r"^\s*(?P<seconds>\d{1,4})\s*(?:s|sec|secs|seconds?)?\s*[|:,;\-–—]\s*(?P<prompt>.*)$",
    re.DOTALL,
)


class ShotRule(StrEnum):
    """The form's own rules, worded by the catalogs as `input.<rule>`."""

    SHOT_FORMAT = "shot_format"
    SHOT_DURATION = "shot_duration"
    SHOT_PROMPT = "shot_prompt"
    SHOT_TOO_LONG = "shot_too_long"
    SHOT_INVISIBLE = "shot_invisible"
    SHOTS_COUNT = "shots_count"
    SHOTS_TOTAL = "shots_total"


@dataclass(frozen=True, slots=True)
class MultishotOptions:
    """What the slash command carried, kept while the member fills in the shots."""

    prompt: str
    aspect_ratio: str | None = None
    negative_prompt: str | None = None
    cfg_scale: float | None = None
    sound: bool | None = None


def parse_shot(number: int, text: str) -> Shot:
    """One box of the form → a shot, or a KlingInputError naming the shot."""
    field = f"shot {number}"
    match = SHOT_LINE.match(text)
    if match is None:
        raise KlingInputError(
            field,
            text,
            "must start with its length in seconds, then its prompt.",
            rule=ShotRule.SHOT_FORMAT,
            shot=number,
        )
    seconds = int(match["seconds"])
    if not DURATION_MIN <= seconds <= DURATION_MAX:
        raise KlingInputError(
            field,
            seconds,
            f"must last from {DURATION_MIN} to {DURATION_MAX} seconds.",
            rule=ShotRule.SHOT_DURATION,
            shot=number,
            seconds=seconds,
            low=DURATION_MIN,
            high=DURATION_MAX,
        )
    prompt = match["prompt"].strip()
    if not prompt:
        raise KlingInputError(
            field,
            match["prompt"],
            "needs a prompt after its length.",
            rule=ShotRule.SHOT_PROMPT,
            shot=number,
        )
    if len(prompt) > PROMPT_MAX_CHARS:
        raise KlingInputError(
            field,
            prompt,
            f"must be at most {PROMPT_MAX_CHARS:,} characters.",
            rule=ShotRule.SHOT_TOO_LONG,
            shot=number,
            chars=len(prompt),
            limit=PROMPT_MAX_CHARS,
        )
    if not has_visible_text(prompt):
        raise KlingInputError(
            field, prompt, INVISIBLE_ONLY, rule=ShotRule.SHOT_INVISIBLE, shot=number
        )
    return Shot(prompt=prompt, duration=seconds)


def multishot_request(options: MultishotOptions, shot_texts: Sequence[str]) -> KlingRequest:
    """The request RunComfy gets: shot_type customize, the shots, their total as duration."""
    shots = [
        parse_shot(number, text)
        for number, text in enumerate(shot_texts, start=1)
        if text and text.strip()
    ]
    if len(shots) < MIN_SHOTS:
        raise KlingInputError(
            "shots",
            len(shots),
            f"a multi-shot video needs {MIN_SHOTS} to {MAX_SHOTS} shots.",
            rule=ShotRule.SHOTS_COUNT,
            count=len(shots),
            low=MIN_SHOTS,
            high=MAX_SHOTS,
        )
    total = sum(shot.duration for shot in shots)
    if not DURATION_MIN <= total <= DURATION_MAX:
        lengths = " + ".join(str(shot.duration) for shot in shots)
        raise KlingInputError(
            "shots",
            total,
            f"must add up to {DURATION_MIN}–{DURATION_MAX} seconds in total; "
            f"yours add up to {lengths} = {total} s.",
            rule=ShotRule.SHOTS_TOTAL,
            lengths=lengths,
            total=total,
            low=DURATION_MIN,
            high=DURATION_MAX,
        )
    return KlingRequest.parse(
        prompt=options.prompt,
        duration=total,
        aspect_ratio=options.aspect_ratio,
        negative_prompt=options.negative_prompt,
        cfg_scale=options.cfg_scale,
        sound=options.sound,
        shot_type=ShotType.CUSTOMIZE,
        multi_prompt=shots,
    )


SubmitShots = Callable[[discord.Interaction, MultishotOptions, list[str]], Awaitable[None]]
StartJob = Callable[[discord.Interaction, KlingRequest], Awaitable[None]]


def shots_submitter(start: StartJob) -> SubmitShots:
    """What sending the shots form does: the request to `start`, or, when a rule is
    broken, a private answer saying which, with the form to reopen as it was typed."""

    async def submit(
        interaction: discord.Interaction, options: MultishotOptions, values: list[str]
    ) -> None:
        try:
            request = multishot_request(options, values)
        except KlingInputError as error:
            tr = texts(interaction.locale)
            view = EditShotsView(options, values, submit, interaction.user.id, tr)
            text = tr("desk.shots_refused", reason=input_refusal(error, tr))
            await reply(interaction, text, view=view)
            return
        await start(interaction, request)

    return submit


class ShotsModal(AnsweringModal):
    """One paragraph box per shot; the first two are required."""

    def __init__(
        self,
        options: MultishotOptions,
        on_submit: SubmitShots,
        values: Sequence[str] = (),
        tr: Texts | None = None,
    ) -> None:
        tr = tr or english()
        super().__init__(title=tr("shots.title"), timeout=15 * 60)
        self.options = options
        self._submit = on_submit
        self.boxes: list[discord.ui.TextInput[Any]] = []
        for number in range(1, MAX_SHOTS + 1):
            box: discord.ui.TextInput[Any] = discord.ui.TextInput(
                label=tr("shots.label", number=number),
                style=discord.TextStyle.paragraph,
                placeholder=tr("shots.placeholder"),
                required=number <= MIN_SHOTS,
                max_length=PROMPT_MAX_CHARS + 20,
                default=values[number - 1] if number <= len(values) else None,
                custom_id=f"shot-{number}",
            )
            self.boxes.append(box)
            self.add_item(box)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, self.options, [box.value or "" for box in self.boxes])


class EditShotsView(AnsweringView):
    """Reopens the form with what the member typed, after it was refused."""

    def __init__(
        self,
        options: MultishotOptions,
        values: Sequence[str],
        on_submit: SubmitShots,
        owner_id: int,
        tr: Texts | None = None,
    ) -> None:
        super().__init__(timeout=15 * 60)
        self._tr = tr or english()
        self.edit.label = self._tr("button.edit_shots")
        self._options = options
        self._values = list(values)
        self._submit = on_submit
        self._owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return interaction.user.id == self._owner_id and await super().interaction_check(
            interaction
        )

    @discord.ui.button(style=discord.ButtonStyle.primary, emoji="✏️")
    async def edit(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        form = ShotsModal(self._options, self._submit, self._values, self._tr)
        await interaction.response.send_modal(form)
