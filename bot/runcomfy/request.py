"""The input model for `kling/kling-3.0/standard/text-to-video`.

Every rule of the API's input schema is checked here, before any paid call, and a
violation raises `KlingInputError`: an English sentence (for the command line and the log)
plus the rule's key and its numbers, which the Discord side words in the reader's language
(`bot/locales/*/LC_MESSAGES/bot.po`, keys `input.<rule>`). Construction validates, so a
`KlingRequest` that exists is one RunComfy will accept.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from bot.runcomfy.given import has_visible_text
from bot.runcomfy.input_error import KlingInputError, Place, Rule, either, input_error

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


INVISIBLE_ONLY = (
    "must have visible text (letters, numbers or symbols), not only invisible characters."
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


PROMPT = Place("prompt")
NEGATIVE_PROMPT = Place("negative_prompt")
DURATION = Place("duration")
ASPECT_RATIO = Place("aspect_ratio")
CFG_SCALE = Place("cfg_scale")
SOUND = Place("sound")
SHOT_TYPE = Place("shot_type")
MULTI_PROMPT = Place("multi_prompt")


def _check_duration(place: Place, value: Any) -> int:
    if not _is_int(value) or not DURATION_MIN <= value <= DURATION_MAX:
        raise input_error(
            place,
            value,
            f"must be a whole number of seconds from {DURATION_MIN} to {DURATION_MAX}.",
            Rule.DURATION_RANGE,
            low=DURATION_MIN,
            high=DURATION_MAX,
        )
    return int(value)


def _check_text(place: Place, value: Any, max_chars: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise input_error(
            place,
            value,
            f"must be text of 1 to {max_chars:,} characters.",
            Rule.TEXT_REQUIRED,
            limit=max_chars,
        )
    text = value.strip()
    if not text:
        return None
    if len(text) > max_chars:
        raise input_error(
            place,
            value,
            f"must be at most {max_chars:,} characters.",
            Rule.TEXT_TOO_LONG,
            limit=max_chars,
            chars=len(text),
        )
    if not has_visible_text(text):
        raise input_error(place, value, INVISIBLE_ONLY, Rule.INVISIBLE_ONLY)
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
        raise input_error(
            MULTI_PROMPT,
            value,
            f"must be a list of 0 to {MULTI_PROMPT_MAX_ITEMS} shots.",
            Rule.SHOTS_LIST,
            most=MULTI_PROMPT_MAX_ITEMS,
        )
    items = list(value)
    if len(items) > MULTI_PROMPT_MAX_ITEMS:
        raise input_error(
            MULTI_PROMPT,
            items,
            f"must have at most {MULTI_PROMPT_MAX_ITEMS} shots.",
            Rule.SHOTS_TOO_MANY,
            most=MULTI_PROMPT_MAX_ITEMS,
            count=len(items),
        )
    shots: list[Shot] = []
    for number, item in enumerate(items, start=1):
        raw_prompt: object
        raw_duration: object
        if isinstance(item, Shot):
            raw_prompt, raw_duration = item.prompt, item.duration
        elif isinstance(item, Mapping):
            raw_prompt, raw_duration = item.get("prompt"), item.get("duration")
        else:
            raise input_error(
                MULTI_PROMPT.in_shot(number),
                item,
                "must have a prompt and a duration.",
                Rule.SHOT_ITEM,
            )
        prompt = _check_text(
            MULTI_PROMPT.in_shot(number, "prompt"), raw_prompt, PROMPT_MAX_CHARS, required=True
        )
        assert prompt is not None
        duration = _check_duration(MULTI_PROMPT.in_shot(number, "duration"), raw_duration)
        shots.append(Shot(prompt=prompt, duration=duration))
    return tuple(shots)


def _check_cfg_scale(value: Any) -> float | int:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not CFG_SCALE_MIN <= value <= CFG_SCALE_MAX
    ):
        raise input_error(
            CFG_SCALE,
            value,
            f"must be a number from {CFG_SCALE_MIN:g} to {CFG_SCALE_MAX:g}.",
            Rule.NUMBER_RANGE,
            low=CFG_SCALE_MIN,
            high=CFG_SCALE_MAX,
        )
    return value


TRUE_OR_FALSE = ("true", "false")


def _check_sound(value: Any) -> bool:
    if not isinstance(value, bool):
        raise input_error(
            SOUND, value, f"must be {either(TRUE_OR_FALSE)}.", Rule.EITHER, choices=TRUE_OR_FALSE
        )
    return value


def _parse_aspect_ratio(value: Any) -> AspectRatio:
    try:
        return AspectRatio(value)
    except ValueError:
        choices = tuple(ratio.value for ratio in AspectRatio)
        raise input_error(
            ASPECT_RATIO, value, f"must be one of {either(choices)}.", Rule.ONE_OF, choices=choices
        ) from None


def _parse_shot_type(value: Any) -> ShotType:
    try:
        return ShotType(value)
    except ValueError:
        choices = tuple(kind.value for kind in ShotType)
        raise input_error(
            SHOT_TYPE, value, f"must be {either(choices)}.", Rule.EITHER, choices=choices
        ) from None


def _check_shots(shots: tuple[Shot, ...], duration: int | None, effective: int) -> None:
    total = sum(shot.duration for shot in shots)
    if shots and total != effective:
        default = duration is None
        which = " (the default)" if default else ""
        raise input_error(
            MULTI_PROMPT,
            list(shots),
            f"shot durations must add up to the video's duration, "
            f"{effective} s{which}; yours add up to {total} s.",
            Rule.SHOTS_SUM_DEFAULT if default else Rule.SHOTS_SUM,
            duration=effective,
            total=total,
        )


def _wrong_type(place: Place, value: Any, expected: str) -> KlingInputError:
    """A typed field holding something else: a mistake in code, never a member's."""
    return input_error(
        place, value, f"must be of type {expected}.", Rule.WRONG_TYPE, expected=expected
    )


def _padded(place: Place, value: Any) -> KlingInputError:
    return input_error(place, value, "must not start or end with spaces.", Rule.PADDED)


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
        if self.prompt != _check_text(PROMPT, self.prompt, PROMPT_MAX_CHARS, required=True):
            raise _padded(PROMPT, self.prompt)
        negative = self.negative_prompt
        if negative is not None and negative != _check_text(
            NEGATIVE_PROMPT, negative, NEGATIVE_PROMPT_MAX_CHARS, required=True
        ):
            raise _padded(NEGATIVE_PROMPT, negative)
        if self.duration is not None:
            _check_duration(DURATION, self.duration)
        if self.aspect_ratio is not None and not isinstance(self.aspect_ratio, AspectRatio):
            raise _wrong_type(ASPECT_RATIO, self.aspect_ratio, "AspectRatio")
        if self.cfg_scale is not None:
            _check_cfg_scale(self.cfg_scale)
            if not isinstance(self.cfg_scale, float):
                raise _wrong_type(CFG_SCALE, self.cfg_scale, "float")
        if self.sound is not None:
            _check_sound(self.sound)
        if self.shot_type is not None and not isinstance(self.shot_type, ShotType):
            raise _wrong_type(SHOT_TYPE, self.shot_type, "ShotType")
        if self.multi_prompt is not None:
            shots = self.multi_prompt
            if not isinstance(shots, tuple) or not all(isinstance(shot, Shot) for shot in shots):
                raise _wrong_type(MULTI_PROMPT, shots, "tuple[Shot, ...]")
            for number, (shot, clean) in enumerate(
                zip(shots, _parse_shots(shots), strict=True), start=1
            ):
                if shot != clean:
                    raise _padded(MULTI_PROMPT.in_shot(number, "prompt"), shot.prompt)
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
        checked_prompt = _check_text(PROMPT, prompt, PROMPT_MAX_CHARS, required=True)
        assert checked_prompt is not None
        return cls(
            prompt=checked_prompt,
            negative_prompt=_check_text(
                NEGATIVE_PROMPT, negative_prompt, NEGATIVE_PROMPT_MAX_CHARS, required=False
            ),
            duration=None if duration is None else _check_duration(DURATION, duration),
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
            name = unknown[0]
            raise input_error(
                Place(name), payload[name], "is not a Kling 3.0 option.", Rule.NOT_AN_OPTION
            )
        if "prompt" not in payload:
            raise input_error(PROMPT, None, "is required.", Rule.REQUIRED)
        return cls.parse(**dict(payload))
