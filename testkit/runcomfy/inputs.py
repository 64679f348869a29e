"""The emulator's own reading of the model's input schema.

It shares no code with the bot's validation, so a bug there shows up as a 422 here
instead of passing silently."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeGuard

from .contract import ASPECT_RATIOS, DEFAULT_DURATION, INPUT_FIELDS, MAX_SHOTS, MAX_TEXT, SHOT_TYPES


class _Missing:
    pass


_MISSING = _Missing()


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_inputs(body: object) -> list[dict[str, Any]]:
    """The emulator's own reading of the input schema; a list of FastAPI-style errors."""
    errors: list[dict[str, Any]] = []

    def error(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> None:
        errors.append({"loc": ["body", *loc], "msg": msg, "type": kind})

    if not isinstance(body, dict):
        error([], "the request body must be a JSON object", "type_error")
        return errors
    for key in sorted(set(body) - INPUT_FIELDS):
        error([key], "extra fields not permitted", "extra_forbidden")

    def text(loc: Sequence[str | int], value: object, required: bool) -> None:
        if isinstance(value, _Missing):
            if required:
                error(loc, "field required", "missing")
        elif not isinstance(value, str):
            error(loc, "must be a string", "string_type")
        elif required and not value.strip():
            error(loc, "must not be empty", "string_too_short")
        elif len(value) > MAX_TEXT:
            error(loc, f"must be at most {MAX_TEXT} characters", "string_too_long")

    def seconds(loc: Sequence[str | int], value: object) -> bool:
        if not _is_int(value):
            error(loc, "must be an integer", "int_type")
            return False
        if not 3 <= value <= 15:
            error(loc, "must be between 3 and 15", "range")
            return False
        return True

    text(["prompt"], body.get("prompt", _MISSING), required=True)
    text(["negative_prompt"], body.get("negative_prompt", _MISSING), required=False)
    duration = body.get("duration", _MISSING)
    duration_ok = isinstance(duration, _Missing) or seconds(["duration"], duration)
    if "aspect_ratio" in body and body["aspect_ratio"] not in ASPECT_RATIOS:
        error(["aspect_ratio"], "must be one of 16:9, 9:16, 1:1", "enum")
    if "cfg_scale" in body:
        cfg = body["cfg_scale"]
        if isinstance(cfg, bool) or not isinstance(cfg, int | float) or not math.isfinite(cfg):
            error(["cfg_scale"], "must be a number", "float_type")
        elif not 0 <= cfg <= 1:
            error(["cfg_scale"], "must be between 0 and 1", "range")
    if "sound" in body and not isinstance(body["sound"], bool):
        error(["sound"], "must be a boolean", "bool_type")
    if "shot_type" in body and body["shot_type"] not in SHOT_TYPES:
        error(["shot_type"], "must be one of intelligent, customize", "enum")
    if "multi_prompt" in body:
        shots = body["multi_prompt"]
        if not isinstance(shots, list):
            error(["multi_prompt"], "must be a list", "list_type")
        elif len(shots) > MAX_SHOTS:
            error(["multi_prompt"], f"must have at most {MAX_SHOTS} items", "too_long")
        else:
            total, all_ok = 0, True
            for index, shot in enumerate(shots):
                if not isinstance(shot, dict):
                    error(["multi_prompt", index], "must be an object", "dict_type")
                    all_ok = False
                    continue
                for key in sorted(set(shot) - {"prompt", "duration"}):
                    error(["multi_prompt", index, key], "extra fields not permitted", "extra")
                text(["multi_prompt", index, "prompt"], shot.get("prompt", _MISSING), True)
                shot_duration = shot.get("duration", _MISSING)
                if isinstance(shot_duration, _Missing):
                    error(["multi_prompt", index, "duration"], "field required", "missing")
                    all_ok = False
                elif seconds(["multi_prompt", index, "duration"], shot_duration):
                    total += shot_duration
                else:
                    all_ok = False
            expected = duration if _is_int(duration) else DEFAULT_DURATION
            if shots and all_ok and duration_ok and total != expected:
                error(
                    ["multi_prompt"],
                    f"the sum of the durations ({total}) must equal duration ({expected})",
                    "value_error",
                )
    return errors
