"""The input model for `kling/kling-3.0/standard/text-to-video`.

Every rule of the API's input schema is checked here, before any paid call, and a
violation raises `KlingInputError` with a sentence a Discord user can read as it is.
Construction validates, so a `KlingRequest` that exists is one RunComfy will accept.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

MODEL_ID = "kling/kling-3.0/standard/text-to-video"

PROMPT_MAX_CHARS = 2500
NEGATIVE_PROMPT_MAX_CHARS = 2500
DURATION_MIN = 3
DURATION_MAX = 15
DEFAULT_DURATION = 5
CFG_SCALE_MIN = 0.0
CFG_SCALE_MAX = 1.0
DEFAULT_CFG_SCALE = 0.5
DEFAULT_SOUND = True
MULTI_PROMPT_MAX_ITEMS = 20


class AspectRatio(StrEnum):
    WIDE = "16:9"
    TALL = "9:16"
    SQUARE = "1:1"


class ShotType(StrEnum):
    INTELLIGENT = "intelligent"
    CUSTOMIZE = "customize"


DEFAULT_ASPECT_RATIO = AspectRatio.WIDE


class KlingInputError(ValueError):
    """An input the model would refuse: which field, what was given, what is allowed."""

    def __init__(
        self, field: str, value: Any, allowed: str, *, rule: str | None = None, **facts: Any
    ) -> None:
        """`rule` and `facts` name the broken rule and its numbers, so another layer can
        word the same refusal in another language."""
        self.field = field
        self.value = value
        self.allowed = allowed
        self.rule = rule
        self.facts = facts
        super().__init__(f"`{field}` {allowed} You gave {describe_value(value)}.")

    @property
    def user_message(self) -> str:
        return str(self)


BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Letters and symbols by category that draw nothing: Hangul fillers, the blank Braille cell."""
INVISIBLE_ONLY = (
    "must have visible text (letters, numbers or symbols), not only invisible characters."
)


def is_visible(char: str) -> bool:
    """A letter, number, punctuation or symbol that draws something. Format and control
    characters (zero-width spaces and joiners, direction marks), separators and combining
    marks are not visible on their own."""
    return unicodedata.category(char)[0] in "LNPS" and char not in BLANK_LOOKING


def has_visible_text(text: str) -> bool:
    """Whether a prompt shows anything: a prompt of only invisible characters is billed
    like any other but asks for nothing."""
    return any(is_visible(char) for char in text)


def describe_value(value: Any) -> str:
    """A short, safe rendering of a user's value for an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return "an empty text" if not value else "only spaces"
        if not has_visible_text(stripped):
            return f"only invisible characters ({len(stripped):,})"
        if len(stripped) > 60:
            return f"a text of {len(stripped):,} characters"
        return f"“{stripped}”"
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    if isinstance(value, int | float):
        return f"{value}"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a value of type {type(value).__name__}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_duration(field: str, value: Any) -> int:
    if not _is_int(value) or not DURATION_MIN <= value <= DURATION_MAX:
        raise KlingInputError(
            field,
            value,
            f"must be a whole number of seconds from {DURATION_MIN} to {DURATION_MAX}.",
        )
    return int(value)


def _check_text(field: str, value: Any, max_chars: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise KlingInputError(field, value, f"must be text of 1 to {max_chars:,} characters.")
    text = value.strip()
    if not text:
        if required:
            raise KlingInputError(field, value, f"must be text of 1 to {max_chars:,} characters.")
        return None
    if len(text) > max_chars:
        raise KlingInputError(field, value, f"must be at most {max_chars:,} characters.")
    if not has_visible_text(text):
        raise KlingInputError(field, value, INVISIBLE_ONLY, rule="invisible_only")
    return text


@dataclass(frozen=True, slots=True)
class Shot:
    """One segment of a multi-shot video: its own prompt and length."""

    prompt: str
    duration: int

    def to_payload(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "duration": self.duration}


def _parse_shots(value: Any) -> tuple[Shot, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise KlingInputError(
            "multi_prompt", value, f"must be a list of 0 to {MULTI_PROMPT_MAX_ITEMS} shots."
        )
    items = list(value)
    if len(items) > MULTI_PROMPT_MAX_ITEMS:
        raise KlingInputError(
            "multi_prompt", items, f"must have at most {MULTI_PROMPT_MAX_ITEMS} shots."
        )
    shots: list[Shot] = []
    for number, item in enumerate(items, start=1):
        field = f"multi_prompt shot {number}"
        raw_prompt: object
        raw_duration: object
        if isinstance(item, Shot):
            raw_prompt, raw_duration = item.prompt, item.duration
        elif isinstance(item, Mapping):
            raw_prompt, raw_duration = item.get("prompt"), item.get("duration")
        else:
            raise KlingInputError(field, item, "must have a prompt and a duration.")
        prompt = _check_text(f"{field} prompt", raw_prompt, PROMPT_MAX_CHARS, required=True)
        assert prompt is not None
        shots.append(
            Shot(prompt=prompt, duration=_check_duration(f"{field} duration", raw_duration))
        )
    return tuple(shots)


def _check_cfg_scale(value: Any) -> float | int:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not CFG_SCALE_MIN <= value <= CFG_SCALE_MAX
    ):
        raise KlingInputError("cfg_scale", value, "must be a number from 0 to 1.")
    return value


def _check_sound(value: Any) -> bool:
    if not isinstance(value, bool):
        raise KlingInputError("sound", value, "must be true or false.")
    return value


def _parse_aspect_ratio(value: Any) -> AspectRatio:
    try:
        return AspectRatio(value)
    except ValueError:
        raise KlingInputError("aspect_ratio", value, "must be one of 16:9, 9:16 or 1:1.") from None


def _parse_shot_type(value: Any) -> ShotType:
    try:
        return ShotType(value)
    except ValueError:
        raise KlingInputError("shot_type", value, "must be intelligent or customize.") from None


def _check_shots(shots: tuple[Shot, ...], duration: int | None, effective: int) -> None:
    total = sum(shot.duration for shot in shots)
    if shots and total != effective:
        which = "" if duration is not None else " (the default)"
        raise KlingInputError(
            "multi_prompt",
            list(shots),
            f"shot durations must add up to the video's duration, "
            f"{effective} s{which}; yours add up to {total} s.",
        )


@dataclass(frozen=True, slots=True)
class KlingRequest:
    """A validated text-to-video request. Unset fields (None) are left to RunComfy's defaults.

    The fields hold exactly what their types say; raw input (text from a command line,
    strings for the enums, lists of dicts for the shots, padded prompts) goes through
    `KlingRequest.parse`, which normalises it and names the field that is wrong.
    """

    prompt: str
    negative_prompt: str | None = None
    duration: int | None = None
    aspect_ratio: AspectRatio | None = None
    cfg_scale: float | None = None
    sound: bool | None = None
    shot_type: ShotType | None = None
    multi_prompt: tuple[Shot, ...] | None = None

    def __post_init__(self) -> None:
        if self.prompt != _check_text("prompt", self.prompt, PROMPT_MAX_CHARS, required=True):
            raise KlingInputError("prompt", self.prompt, "must not start or end with spaces.")
        negative = self.negative_prompt
        if negative is not None and negative != _check_text(
            "negative_prompt", negative, NEGATIVE_PROMPT_MAX_CHARS, required=True
        ):
            raise KlingInputError("negative_prompt", negative, "must not start or end with spaces.")
        if self.duration is not None:
            _check_duration("duration", self.duration)
        if self.aspect_ratio is not None and not isinstance(self.aspect_ratio, AspectRatio):
            raise KlingInputError("aspect_ratio", self.aspect_ratio, "must be an AspectRatio.")
        if self.cfg_scale is not None:
            _check_cfg_scale(self.cfg_scale)
            if not isinstance(self.cfg_scale, float):
                raise KlingInputError("cfg_scale", self.cfg_scale, "must be a float.")
        if self.sound is not None and not isinstance(self.sound, bool):
            raise KlingInputError("sound", self.sound, "must be true or false.")
        if self.shot_type is not None and not isinstance(self.shot_type, ShotType):
            raise KlingInputError("shot_type", self.shot_type, "must be a ShotType.")
        if self.multi_prompt is not None:
            shots = self.multi_prompt
            if not isinstance(shots, tuple) or not all(isinstance(shot, Shot) for shot in shots):
                raise KlingInputError("multi_prompt", shots, "must be a tuple of shots.")
            if _parse_shots(shots) != shots:
                raise KlingInputError("multi_prompt", shots, "must not have padded prompts.")
            _check_shots(shots, self.duration, self.effective_duration)

    @classmethod
    def parse(
        cls,
        *,
        prompt: object,
        negative_prompt: object = None,
        duration: object = None,
        aspect_ratio: object = None,
        cfg_scale: object = None,
        sound: object = None,
        shot_type: object = None,
        multi_prompt: object = None,
    ) -> KlingRequest:
        """A request from raw input, every rule checked; `KlingInputError` names the field."""
        checked_prompt = _check_text("prompt", prompt, PROMPT_MAX_CHARS, required=True)
        assert checked_prompt is not None
        return cls(
            prompt=checked_prompt,
            negative_prompt=_check_text(
                "negative_prompt", negative_prompt, NEGATIVE_PROMPT_MAX_CHARS, required=False
            ),
            duration=None if duration is None else _check_duration("duration", duration),
            aspect_ratio=None if aspect_ratio is None else _parse_aspect_ratio(aspect_ratio),
            cfg_scale=None if cfg_scale is None else float(_check_cfg_scale(cfg_scale)),
            sound=None if sound is None else _check_sound(sound),
            shot_type=None if shot_type is None else _parse_shot_type(shot_type),
            multi_prompt=None if multi_prompt is None else _parse_shots(multi_prompt),
        )

    @property
    def effective_duration(self) -> int:
        return self.duration if self.duration is not None else DEFAULT_DURATION

    @property
    def effective_sound(self) -> bool:
        return self.sound if self.sound is not None else DEFAULT_SOUND

    @property
    def effective_aspect_ratio(self) -> AspectRatio:
        return self.aspect_ratio or DEFAULT_ASPECT_RATIO

    @property
    def effective_cfg_scale(self) -> float:
        return self.cfg_scale if self.cfg_scale is not None else DEFAULT_CFG_SCALE

    def to_payload(self) -> dict[str, Any]:
        """The JSON body for submit: only the fields that are set."""
        payload: dict[str, Any] = {"prompt": self.prompt}
        if self.negative_prompt is not None:
            payload["negative_prompt"] = self.negative_prompt
        if self.duration is not None:
            payload["duration"] = self.duration
        if self.aspect_ratio is not None:
            payload["aspect_ratio"] = self.aspect_ratio.value
        if self.cfg_scale is not None:
            payload["cfg_scale"] = self.cfg_scale
        if self.sound is not None:
            payload["sound"] = self.sound
        if self.shot_type is not None:
            payload["shot_type"] = self.shot_type.value
        if self.multi_prompt is not None:
            payload["multi_prompt"] = [shot.to_payload() for shot in self.multi_prompt]
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> KlingRequest:
        """Rebuild (and re-validate) a request from `to_payload` output; refuses unknown keys."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(payload) - known)
        if unknown:
            raise KlingInputError(unknown[0], payload[unknown[0]], "is not a Kling 3.0 option.")
        if "prompt" not in payload:
            raise KlingInputError("prompt", None, "is required.")
        return cls.parse(**dict(payload))
