"""The input model for `kling/kling-3.0/standard/text-to-video`.

Every rule of the API's input schema is checked here, before any paid call, and a
violation raises `KlingInputError`: an English sentence (for the command line and the log)
plus the rule's key and its numbers, which the Discord side words in the reader's language
(`bot/locales/*/LC_MESSAGES/bot.po`, keys `input.<rule>`). Construction validates, so a
`KlingRequest` that exists is one RunComfy will accept.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from types import MappingProxyType
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


class Rule(StrEnum):
    """Every input rule of the request model; the catalogs word each as `input.<rule>`."""

    TEXT_REQUIRED = "text_required"
    TEXT_TOO_LONG = "text_too_long"
    INVISIBLE_ONLY = "invisible_only"
    DURATION_RANGE = "duration_range"
    NUMBER_RANGE = "number_range"
    ONE_OF = "one_of"
    EITHER = "either"
    SHOTS_LIST = "shots_list"
    SHOTS_TOO_MANY = "shots_too_many"
    SHOT_ITEM = "shot_item"
    SHOTS_SUM = "shots_sum"
    SHOTS_SUM_DEFAULT = "shots_sum_default"
    WRONG_TYPE = "wrong_type"
    PADDED = "padded"
    NOT_AN_OPTION = "not_an_option"
    REQUIRED = "required"


class KlingInputError(ValueError):
    """An input the model would refuse: which field, what was given, what is allowed.

    `rule` names the broken rule (catalog key `input.<rule>`) and `facts` its numbers and
    allowed values; where the field is an option (or part of one of its shots), the facts
    say so as `option`, `shot` and `part`. `str(error)` is the English sentence."""

    def __init__(self, field: str, value: Any, allowed: str, *, rule: str, **facts: Any) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.rule = rule
        self.facts = facts
        super().__init__(f"`{field}` {allowed} You gave {describe_value(value)}.")

    @property
    def user_message(self) -> str:
        return str(self)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a value sits: an option, or a part (`prompt`, `duration`) of one of its shots."""

    option: str
    shot: int | None = None
    part: str | None = None

    def __str__(self) -> str:
        shot = "" if self.shot is None else f" shot {self.shot}"
        part = "" if self.part is None else f" {self.part}"
        return f"{self.option}{shot}{part}"

    def in_shot(self, shot: int, part: str | None = None) -> Place:
        return Place(self.option, shot, part)

    def facts(self) -> dict[str, Any]:
        named = {"option": self.option, "shot": self.shot, "part": self.part}
        return {name: value for name, value in named.items() if value is not None}


def _input_error(
    place: Place, value: Any, allowed: str, rule: Rule, **facts: Any
) -> KlingInputError:
    """The error for a value at `place`, its place among the facts."""
    return KlingInputError(str(place), value, allowed, rule=rule, **place.facts(), **facts)


BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
"""Letters and symbols by category that draw nothing: Hangul fillers, the blank Braille cell."""
INVISIBLE_ONLY = (
    "must have visible text (letters, numbers or symbols), not only invisible characters."
)
LONG_TEXT_CHARS = 60
"""A given text longer than this is described by its length, not quoted."""


def is_visible(char: str) -> bool:
    """A letter, number, punctuation or symbol that draws something. Format and control
    characters (zero-width spaces and joiners, direction marks), separators and combining
    marks are not visible on their own."""
    return unicodedata.category(char)[0] in "LNPS" and char not in BLANK_LOOKING


def has_visible_text(text: str) -> bool:
    """Whether a prompt shows anything: a prompt of only invisible characters is billed
    like any other but asks for nothing."""
    return any(is_visible(char) for char in text)


class GivenKind(StrEnum):
    """What kind of value a member gave, for any language to word (catalog `given.<kind>`)."""

    NOTHING = "nothing"
    TRUE = "true"
    FALSE = "false"
    EMPTY = "empty"
    SPACES = "spaces"
    INVISIBLE = "invisible"
    LONG_TEXT = "long_text"
    TEXT = "text"
    NUMBER = "number"
    LIST = "list"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Given:
    """A user's value, safely described: its kind, and `count`, `text`, `number` or `type`."""

    kind: GivenKind
    facts: Mapping[str, Any]


def given_value(value: Any) -> Given:
    """What a user's value is, short and safe to show: never more than 60 characters of it."""
    if value is None:
        return Given(GivenKind.NOTHING, {})
    if isinstance(value, bool):
        return Given(GivenKind.TRUE if value else GivenKind.FALSE, {})
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return Given(GivenKind.SPACES if value else GivenKind.EMPTY, {})
        if not has_visible_text(stripped):
            return Given(GivenKind.INVISIBLE, {"count": len(stripped)})
        if len(stripped) > LONG_TEXT_CHARS:
            return Given(GivenKind.LONG_TEXT, {"count": len(stripped)})
        return Given(GivenKind.TEXT, {"text": stripped})
    if isinstance(value, int | float):
        return Given(GivenKind.NUMBER, {"number": value})
    if isinstance(value, list | tuple):
        return Given(GivenKind.LIST, {"count": len(value)})
    return Given(GivenKind.OTHER, {"type": type(value).__name__})


def number_as_given(value: float) -> str:
    """`20`, `2,500`, `0.25`, `5.0`: an int grouped, a float as Python writes it."""
    return f"{value:,}" if isinstance(value, int) else repr(value)


ENGLISH_GIVEN: Mapping[GivenKind, str] = MappingProxyType(
    {
        GivenKind.NOTHING: "nothing",
        GivenKind.TRUE: "true",
        GivenKind.FALSE: "false",
        GivenKind.EMPTY: "an empty text",
        GivenKind.SPACES: "only spaces",
        GivenKind.INVISIBLE: "only invisible characters ({count:,})",
        GivenKind.LONG_TEXT: "a text of {count:,} characters",
        GivenKind.TEXT: "“{text}”",
        GivenKind.NUMBER: "{number}",
        GivenKind.LIST: "a list of {count} item{s}",
        GivenKind.OTHER: "a value of type {type}",
    }
)
"""How the English sentence describes each kind; the catalogs word them as `given.<kind>`."""


def describe_value(value: Any) -> str:
    """A short, safe rendering of a user's value for the English sentence."""
    seen = given_value(value)
    facts = dict(seen.facts)
    if "number" in facts:
        facts["number"] = number_as_given(facts["number"])
    plural = "" if facts.get("count") == 1 else "s"
    return ENGLISH_GIVEN[seen.kind].format(s=plural, **facts)


def either(choices: Iterable[str]) -> str:
    """`a or b`, `a, b, or c`."""
    items = list(choices)
    if len(items) <= 2:
        return " or ".join(items)
    return f"{', '.join(items[:-1])}, or {items[-1]}"


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
        raise _input_error(
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
        raise _input_error(
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
        raise _input_error(
            place,
            value,
            f"must be at most {max_chars:,} characters.",
            Rule.TEXT_TOO_LONG,
            limit=max_chars,
            chars=len(text),
        )
    if not has_visible_text(text):
        raise _input_error(place, value, INVISIBLE_ONLY, Rule.INVISIBLE_ONLY)
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
        raise _input_error(
            MULTI_PROMPT,
            value,
            f"must be a list of 0 to {MULTI_PROMPT_MAX_ITEMS} shots.",
            Rule.SHOTS_LIST,
            most=MULTI_PROMPT_MAX_ITEMS,
        )
    items = list(value)
    if len(items) > MULTI_PROMPT_MAX_ITEMS:
        raise _input_error(
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
            raise _input_error(
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
        raise _input_error(
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
        raise _input_error(
            SOUND, value, f"must be {either(TRUE_OR_FALSE)}.", Rule.EITHER, choices=TRUE_OR_FALSE
        )
    return value


def _parse_aspect_ratio(value: Any) -> AspectRatio:
    try:
        return AspectRatio(value)
    except ValueError:
        choices = tuple(ratio.value for ratio in AspectRatio)
        raise _input_error(
            ASPECT_RATIO, value, f"must be one of {either(choices)}.", Rule.ONE_OF, choices=choices
        ) from None


def _parse_shot_type(value: Any) -> ShotType:
    try:
        return ShotType(value)
    except ValueError:
        choices = tuple(kind.value for kind in ShotType)
        raise _input_error(
            SHOT_TYPE, value, f"must be {either(choices)}.", Rule.EITHER, choices=choices
        ) from None


def _check_shots(shots: tuple[Shot, ...], duration: int | None, effective: int) -> None:
    total = sum(shot.duration for shot in shots)
    if shots and total != effective:
        default = duration is None
        which = " (the default)" if default else ""
        raise _input_error(
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
    return _input_error(
        place, value, f"must be of type {expected}.", Rule.WRONG_TYPE, expected=expected
    )


def _padded(place: Place, value: Any) -> KlingInputError:
    return _input_error(place, value, "must not start or end with spaces.", Rule.PADDED)


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
            raise _input_error(
                Place(name), payload[name], "is not a Kling 3.0 option.", Rule.NOT_AN_OPTION
            )
        if "prompt" not in payload:
            raise _input_error(PROMPT, None, "is required.", Rule.REQUIRED)
        return cls.parse(**dict(payload))
