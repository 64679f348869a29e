"""Edit & re-roll's form: a finished job's prompt, negative prompt and options, pre-filled
and changed by the member before a new job is made from them.

A Discord form holds at most five text boxes, so the options share one line, written as
the result card writes them: `10 s · 9:16 · sound on · guidance 0.5` (German
`10 s · 9:16 · mit Ton · Prompt-Treue 0,5`). They are read in any order and in any of
the bot's languages; a bare number is the length in seconds; whatever is left out stays
as it was. A multi-shot job's length is its shots', so its line has no length: its shots
come back in the multishot form once this one is sent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import discord

from bot.discord_ui.replies import AnsweringModal, AnsweringView
from bot.i18n import Texts, english, languages
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import (
    NEGATIVE_PROMPT_MAX_CHARS,
    PROMPT_MAX_CHARS,
    KlingRequest,
)

OPTIONS_MAX_CHARS = 200
"""The options box; the longest line the bot writes is far shorter."""
UNREAD_SHOWN_CHARS = 100
"""What could not be read, quoted back at most this long."""
TITLE_MAX_CHARS = 45
"""Discord's limit on a form's title."""
FORM_MINUTES = 15

_NUMBER = r"(\d{1,4}(?:[.,]\d{1,6})?)"
_NOT_IN_A_NUMBER_BEFORE = r"(?<![\w])(?<!\d[.,:])"
_NOT_IN_A_NUMBER_AFTER = r"(?![\w])(?![.,:]\d)"
"""A number or ratio stands alone: `9:16` is not read in `19:16`, nor `10` in `10.5`."""
_ASPECT = re.compile(
    rf"{_NOT_IN_A_NUMBER_BEFORE}(\d{{1,3}}\s*:\s*\d{{1,3}}){_NOT_IN_A_NUMBER_AFTER}"
)
"""Any ratio is read as the shape; the request model says which ones there are."""
_SEPARATORS = " \t\n·•,;|/"
"""What may stand between the options."""


class EditRule(StrEnum):
    """The form's own rules, worded by the catalogs as `input.<rule>`."""

    OPTIONS_UNREAD = "options_unread"
    OPTIONS_SHOT_LENGTH = "options_shot_length"


@dataclass(frozen=True, slots=True)
class EditValues:
    """What the form's boxes hold, as typed."""

    prompt: str
    negative_prompt: str
    options: str


def is_multishot(request: KlingRequest) -> bool:
    return bool(request.multi_prompt)


def options_line(request: KlingRequest, tr: Texts | None = None) -> str:
    """The options as the form shows them (a multi-shot job's without its length)."""
    tr = tr or english()
    sound = tr("options.sound_on") if request.effective_sound else tr("options.no_sound")
    parts = [
        request.effective_aspect_ratio.value,
        sound,
        tr("options.guidance", cfg_scale=tr.number(request.effective_cfg_scale)),
    ]
    if not is_multishot(request):
        parts.insert(0, tr("unit.seconds", seconds=request.effective_duration))
    return " · ".join(parts)


def edit_values(request: KlingRequest, tr: Texts | None = None) -> EditValues:
    """The form pre-filled with the job's request."""
    return EditValues(request.prompt, request.negative_prompt or "", options_line(request, tr))


def _phrases(texts: Iterable[str], *, after_a_word: bool = False) -> str:
    """Any of `texts` as whole words, longest first, spaces matching any spacing
    (`after_a_word`: also right after a number, like the `s` of `10s`)."""
    unique = sorted({text.strip().lower() for text in texts if text.strip()}, key=len, reverse=True)
    words = "|".join(r"\s+".join(map(re.escape, text.split())) for text in unique)
    start = "" if after_a_word else r"(?<!\w)"
    return rf"{start}(?:{words})(?!\w)"


def _alternatives(key: str) -> list[str]:
    """The words a catalog entry lists (`a|b|c`), in every language the bot speaks."""
    every = languages()
    return [word for name in every.names() for word in every.texts(name)(key).split("|")]


def _guidance_words() -> list[str]:
    every = languages()
    prefixes = [
        every.texts(name)("options.guidance", cfg_scale="\0").split("\0")[0]
        for name in every.names()
    ]
    return [*prefixes, "cfg_scale", "cfg"]


@dataclass(frozen=True, slots=True)
class OptionWords:
    """What the options line is read by, from every catalog."""

    sound_on: re.Pattern[str]
    sound_off: re.Pattern[str]
    guidance: re.Pattern[str]
    seconds: re.Pattern[str]


@functools.cache
def option_words() -> OptionWords:
    """Read once: the catalogs never change while the bot runs."""
    every = languages()
    said = [every.texts(name) for name in every.names()]
    on = [tr("options.sound_on") for tr in said] + _alternatives("edit.sound_on_words")
    off = [tr("options.no_sound") for tr in said] + _alternatives("edit.sound_off_words")
    units = [tr("unit.seconds", seconds="").strip() for tr in said]
    units += _alternatives("edit.seconds_words")
    guidance = _phrases(_guidance_words())
    return OptionWords(
        sound_on=re.compile(_phrases(on), re.IGNORECASE),
        sound_off=re.compile(_phrases(off), re.IGNORECASE),
        guidance=re.compile(
            rf"{guidance}\s*[:=]?\s*{_NUMBER}{_NOT_IN_A_NUMBER_AFTER}", re.IGNORECASE
        ),
        seconds=re.compile(
            rf"{_NOT_IN_A_NUMBER_BEFORE}(\d{{1,4}})(?:\s*{_phrases(units, after_a_word=True)})?"
            + _NOT_IN_A_NUMBER_AFTER,
            re.IGNORECASE,
        ),
    )


@dataclass(frozen=True, slots=True)
class OptionsGiven:
    """The options a line names; None where it names none."""

    duration: int | None = None
    aspect_ratio: str | None = None
    sound: bool | None = None
    cfg_scale: float | None = None


def read_options(text: str, example: str, words: OptionWords | None = None) -> OptionsGiven:
    """The options in `text`, each at most once, or a KlingInputError quoting what could
    not be read (with `example`, the line as the form first showed it)."""
    words = words or option_words()
    rest = f" {text} "

    def take(pattern: re.Pattern[str]) -> re.Match[str] | None:
        nonlocal rest
        found = pattern.search(rest)
        if found is not None:
            rest = f"{rest[: found.start()]}\0{rest[found.end() :]}"
        return found

    aspect = take(_ASPECT)
    guidance = take(words.guidance)
    sound_off = take(words.sound_off)
    sound_on = None if sound_off else take(words.sound_on)
    seconds = take(words.seconds)
    left = " … ".join(
        piece for piece in (part.strip(_SEPARATORS) for part in rest.split("\0")) if piece
    )
    if left:
        shown = left if len(left) <= UNREAD_SHOWN_CHARS else left[: UNREAD_SHOWN_CHARS - 1] + "…"
        raise KlingInputError(
            "options",
            text,
            f"hold something the bot could not read: {shown!r}; write them like {example!r}.",
            rule=EditRule.OPTIONS_UNREAD,
            part=shown,
            example=example,
        )
    return OptionsGiven(
        duration=int(seconds[1]) if seconds else None,
        aspect_ratio=re.sub(r"\s", "", aspect[1]) if aspect else None,
        sound=False if sound_off else (True if sound_on else None),
        cfg_scale=float(guidance[1].replace(",", ".")) if guidance else None,
    )


def _kept(given: Any, raw: Any, effective: Any) -> Any:
    """What the new job asks for: the given value, but an unchanged one as the old job
    asked for it (so a default left to RunComfy stays left to RunComfy)."""
    if given is None or given == effective:
        return raw
    return given


def _as_shown(number: float) -> float:
    """A number as the form shows it (`0.123457` for 0.1234567), to tell it unchanged."""
    return float(english().number(number))


def edited_request(
    values: EditValues, old: KlingRequest, words: OptionWords | None = None
) -> KlingRequest:
    """The new request: the form's prompts and options over the old job's, every rule of
    the request model checked. A multi-shot job's comes without its shots (they follow
    in the multishot form); its options may not name a length."""
    given = read_options(values.options, options_line(old), words)
    if is_multishot(old) and given.duration is not None:
        raise KlingInputError(
            "options",
            values.options,
            "must not name a length: a multi-shot video is as long as its shots.",
            rule=EditRule.OPTIONS_SHOT_LENGTH,
        )
    aspect = old.aspect_ratio.value if old.aspect_ratio is not None else None
    return KlingRequest.parse(
        prompt=values.prompt,
        negative_prompt=values.negative_prompt or None,
        duration=None
        if is_multishot(old)
        else _kept(given.duration, old.duration, old.effective_duration),
        aspect_ratio=_kept(given.aspect_ratio, aspect, old.effective_aspect_ratio.value),
        cfg_scale=_kept(given.cfg_scale, old.cfg_scale, _as_shown(old.effective_cfg_scale)),
        sound=_kept(given.sound, old.sound, old.effective_sound),
    )


SubmitEdit = Callable[[discord.Interaction, EditValues], Awaitable[None]]


class EditForm(AnsweringModal):
    """Prompt, negative prompt and options of a job, pre-filled."""

    def __init__(
        self,
        job_id: int,
        values: EditValues,
        on_submit: SubmitEdit,
        *,
        multishot: bool,
        tr: Texts | None = None,
    ) -> None:
        tr = tr or english()
        title = tr("edit.title", job=job_id)
        super().__init__(title=title[:TITLE_MAX_CHARS], timeout=FORM_MINUTES * 60)
        self._submit = on_submit
        self.prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=tr("edit.prompt"),
            style=discord.TextStyle.paragraph,
            max_length=PROMPT_MAX_CHARS,
            default=values.prompt[:PROMPT_MAX_CHARS],
            custom_id="edit-prompt",
        )
        self.negative_prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=tr("edit.negative_prompt"),
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=NEGATIVE_PROMPT_MAX_CHARS,
            default=values.negative_prompt[:NEGATIVE_PROMPT_MAX_CHARS] or None,
            custom_id="edit-negative-prompt",
        )
        self.options: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=tr("edit.options_multishot" if multishot else "edit.options"),
            required=False,
            max_length=OPTIONS_MAX_CHARS,
            default=values.options[:OPTIONS_MAX_CHARS] or None,
            custom_id="edit-options",
        )
        for box in (self.prompt, self.negative_prompt, self.options):
            self.add_item(box)

    def values(self) -> EditValues:
        return EditValues(
            self.prompt.value or "", self.negative_prompt.value or "", self.options.value or ""
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, self.values())


class EditAgainView(AnsweringView):
    """Opens the form again, for its owner only: after a refusal with what they typed,
    or when the job took too long to find for the form to open at once."""

    def __init__(
        self,
        open_form: Callable[[], EditForm],
        owner_id: int,
        *,
        label: str,
    ) -> None:
        super().__init__(timeout=FORM_MINUTES * 60)
        self.edit.label = label
        self._open_form = open_form
        self._owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self._owner_id

    @discord.ui.button(style=discord.ButtonStyle.primary, emoji="✏️")
    async def edit(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.send_modal(self._open_form())


def shot_values(request: KlingRequest, boxes: int) -> Sequence[str]:
    """A multi-shot job's shots as the multishot form's boxes hold them: `seconds | prompt`."""
    return [f"{shot.duration} | {shot.prompt}" for shot in (request.multi_prompt or ())][:boxes]
