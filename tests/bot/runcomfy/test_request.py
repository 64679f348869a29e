"""Every input rule of `KlingRequest`: refused before any paid call, with a readable reason."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bot.runcomfy.given import describe_value
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import AspectRatio, KlingRequest, Shot, ShotType

PROMPT = "a red fox running through fresh snow at dawn"


def refused(**fields: Any) -> KlingInputError:
    fields.setdefault("prompt", PROMPT)
    with pytest.raises(KlingInputError) as caught:
        KlingRequest.parse(**fields)
    return caught.value


# prompt


def test_prompt_is_required_and_empty_is_refused() -> None:
    error = refused(prompt="")
    assert error.field == "prompt"
    assert str(error) == "`prompt` must be text of 1 to 2,500 characters. You gave an empty text."


def test_prompt_of_only_spaces_is_refused() -> None:
    error = refused(prompt="   \n\t ")
    assert error.field == "prompt"
    assert "You gave only spaces." in str(error)


def test_prompt_none_is_refused() -> None:
    error = refused(prompt=None)
    assert error.field == "prompt"
    assert "You gave nothing." in str(error)


def test_prompt_must_be_text() -> None:
    assert refused(prompt=42).field == "prompt"


def test_prompt_is_trimmed() -> None:
    assert KlingRequest.parse(prompt=f"  {PROMPT}\n").prompt == PROMPT


def test_prompt_length_limit_counts_after_trimming() -> None:
    assert len(KlingRequest.parse(prompt=" " + "x" * 2500 + " ").prompt) == 2500
    error = refused(prompt="x" * 2501)
    assert error.field == "prompt"
    assert str(error) == (
        "`prompt` must be at most 2,500 characters. You gave a text of 2,501 characters."
    )


def test_one_character_prompt_is_allowed() -> None:
    assert KlingRequest.parse(prompt="x").prompt == "x"


# negative_prompt


def test_negative_prompt_limit() -> None:
    request = KlingRequest.parse(prompt=PROMPT, negative_prompt="y" * 2500)
    assert request.negative_prompt == "y" * 2500
    error = refused(negative_prompt="y" * 2501)
    assert error.field == "negative_prompt"
    assert "at most 2,500 characters" in str(error)


def test_negative_prompt_blank_means_unset() -> None:
    request = KlingRequest.parse(prompt=PROMPT, negative_prompt="   ")
    assert request.negative_prompt is None
    assert "negative_prompt" not in request.to_payload()


def test_negative_prompt_must_be_text() -> None:
    assert refused(negative_prompt=["blur"]).field == "negative_prompt"


# duration


@pytest.mark.parametrize("seconds", [3, 5, 10, 15])
def test_duration_in_range(seconds: int) -> None:
    assert KlingRequest.parse(prompt=PROMPT, duration=seconds).duration == seconds


@pytest.mark.parametrize("seconds", [2, 16, 0, -5, 20])
def test_duration_out_of_range(seconds: int) -> None:
    error = refused(duration=seconds)
    assert (error.field, error.value) == ("duration", seconds)
    assert str(error) == (
        f"`duration` must be a whole number of seconds from 3 to 15. You gave {seconds}."
    )


@pytest.mark.parametrize("value", [True, False, 5.0, 5.5, "5", [5]])
def test_duration_must_be_a_plain_integer(value: Any) -> None:
    assert refused(duration=value).field == "duration"


# aspect_ratio


@pytest.mark.parametrize("ratio", ["16:9", "9:16", "1:1", AspectRatio.TALL])
def test_aspect_ratio_allowed(ratio: str) -> None:
    assert KlingRequest.parse(prompt=PROMPT, aspect_ratio=ratio).aspect_ratio == AspectRatio(ratio)


@pytest.mark.parametrize("ratio", ["4:3", "16/9", "", "wide", 169])
def test_aspect_ratio_refused(ratio: Any) -> None:
    error = refused(aspect_ratio=ratio)
    assert error.field == "aspect_ratio"
    assert "must be one of 16:9, 9:16, or 1:1." in str(error)


# cfg_scale


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0])
def test_cfg_scale_in_range_becomes_float(value: float) -> None:
    scale = KlingRequest.parse(prompt=PROMPT, cfg_scale=value).cfg_scale
    assert isinstance(scale, float)
    assert scale == value


@pytest.mark.parametrize("value", [-0.1, 1.01, 2, math.nan, math.inf, -math.inf, True, "0.5"])
def test_cfg_scale_refused(value: Any) -> None:
    error = refused(cfg_scale=value)
    assert error.field == "cfg_scale"
    assert "must be a number from 0 to 1." in str(error)


# sound


@pytest.mark.parametrize("value", [True, False])
def test_sound_boolean(value: bool) -> None:
    assert KlingRequest.parse(prompt=PROMPT, sound=value).to_payload()["sound"] is value


@pytest.mark.parametrize("value", [1, 0, "true", "yes"])
def test_sound_must_be_boolean(value: Any) -> None:
    error = refused(sound=value)
    assert error.field == "sound"
    assert "must be true or false." in str(error)


def test_sound_defaults_to_on_for_pricing() -> None:
    assert KlingRequest.parse(prompt=PROMPT).effective_sound is True


# shot_type


@pytest.mark.parametrize("value", ["intelligent", "customize"])
def test_shot_type_allowed(value: str) -> None:
    assert KlingRequest.parse(prompt=PROMPT, shot_type=value).shot_type is ShotType(value)


@pytest.mark.parametrize("value", ["smart", "Intelligent", ""])
def test_shot_type_refused(value: str) -> None:
    error = refused(shot_type=value)
    assert error.field == "shot_type"
    assert "must be intelligent or customize." in str(error)


# multi_prompt


def shots(*durations: int) -> list[dict[str, Any]]:
    return [{"prompt": f"shot number {i}", "duration": d} for i, d in enumerate(durations, 1)]


def test_multi_prompt_durations_add_up_to_duration() -> None:
    request = KlingRequest.parse(prompt=PROMPT, duration=10, multi_prompt=shots(4, 6))
    assert request.multi_prompt == (Shot("shot number 1", 4), Shot("shot number 2", 6))
    assert request.to_payload()["multi_prompt"] == shots(4, 6)


def test_multi_prompt_sum_must_match_duration() -> None:
    error = refused(duration=10, multi_prompt=shots(4, 4))
    assert error.field == "multi_prompt"
    assert "must add up to the video's duration, 10 s; yours add up to 8 s." in str(error)


def test_multi_prompt_sum_is_checked_against_the_default_duration() -> None:
    assert KlingRequest.parse(prompt=PROMPT, multi_prompt=shots(5)).multi_prompt == (
        Shot("shot number 1", 5),
    )
    error = refused(multi_prompt=shots(3, 3))
    assert "5 s (the default); yours add up to 6 s." in str(error)


def test_multi_prompt_may_be_empty() -> None:
    request = KlingRequest.parse(prompt=PROMPT, multi_prompt=[])
    assert request.multi_prompt == ()
    assert request.to_payload()["multi_prompt"] == []


def test_multi_prompt_at_most_twenty_items() -> None:
    # 20 shots of 3 s cannot match any duration, so only the count rule can fire first.
    error = refused(duration=15, multi_prompt=shots(*[3] * 21))
    assert error.field == "multi_prompt"
    assert "at most 20 shots" in str(error)
    assert "You gave a list of 21 items." in str(error)


def test_multi_prompt_twenty_items_pass_the_count_rule() -> None:
    error = refused(duration=15, multi_prompt=shots(*[3] * 20))
    assert "add up" in str(error)


def test_multi_prompt_must_be_a_list() -> None:
    for value in ("shot one", {"prompt": "x", "duration": 5}, 5):
        assert refused(multi_prompt=value).field == "multi_prompt"


def test_multi_prompt_item_needs_a_prompt() -> None:
    error = refused(multi_prompt=[{"prompt": "  ", "duration": 5}])
    assert error.field == "multi_prompt shot 1 prompt"
    error = refused(multi_prompt=[{"duration": 5}])
    assert error.field == "multi_prompt shot 1 prompt"


def test_multi_prompt_item_prompt_limit() -> None:
    error = refused(multi_prompt=[{"prompt": "z" * 2501, "duration": 5}])
    assert error.field == "multi_prompt shot 1 prompt"


@pytest.mark.parametrize("value", [2, 16, 5.0, "5", True, None])
def test_multi_prompt_item_duration_rules(value: Any) -> None:
    error = refused(multi_prompt=[{"prompt": "a shot", "duration": value}])
    assert error.field == "multi_prompt shot 1 duration"
    assert "whole number of seconds from 3 to 15" in str(error)


def test_multi_prompt_item_must_be_an_object() -> None:
    error = refused(multi_prompt=["just text"])
    assert error.field == "multi_prompt shot 1"
    assert "must have a prompt and a duration." in str(error)


def test_multi_prompt_second_item_is_named() -> None:
    error = refused(duration=8, multi_prompt=[*shots(5), {"prompt": "", "duration": 3}])
    assert error.field == "multi_prompt shot 2 prompt"


# payload and round trip


def test_only_set_fields_are_sent() -> None:
    assert KlingRequest.parse(prompt=PROMPT).to_payload() == {"prompt": PROMPT}
    payload = KlingRequest.parse(prompt=PROMPT, duration=7, sound=False).to_payload()
    assert payload == {"prompt": PROMPT, "duration": 7, "sound": False}


def test_full_payload() -> None:
    request = KlingRequest.parse(
        prompt=PROMPT,
        negative_prompt="blur",
        duration=6,
        aspect_ratio="9:16",
        cfg_scale=0.7,
        sound=True,
        shot_type="customize",
        multi_prompt=shots(3, 3),
    )
    assert request.to_payload() == {
        "prompt": PROMPT,
        "negative_prompt": "blur",
        "duration": 6,
        "aspect_ratio": "9:16",
        "cfg_scale": 0.7,
        "sound": True,
        "shot_type": "customize",
        "multi_prompt": shots(3, 3),
    }
    assert KlingRequest.from_payload(request.to_payload()) == request


def test_from_payload_refuses_unknown_and_missing_fields() -> None:
    with pytest.raises(KlingInputError) as caught:
        KlingRequest.from_payload({"prompt": PROMPT, "seed": 3})
    assert caught.value.field == "seed"
    assert "is not a Kling 3.0 option." in str(caught.value)
    with pytest.raises(KlingInputError) as caught:
        KlingRequest.from_payload({"duration": 5})
    assert caught.value.field == "prompt"


# the error itself


def test_error_carries_field_value_and_allowed() -> None:
    error = refused(duration=20)
    assert error.field == "duration"
    assert error.value == 20
    assert error.allowed == "must be a whole number of seconds from 3 to 15."
    assert error.user_message == str(error)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "nothing"),
        (True, "true"),
        ("", "an empty text"),
        ("  ", "only spaces"),
        ("4:3", "“4:3”"),
        ("x" * 61, "a text of 61 characters"),
        (5.0, "5.0"),
        (0.25, "0.25"),
        ([1], "a list of 1 item"),
        ({"a": 1}, "a value of type dict"),
    ],
)
def test_describe_value_reads_well(value: Any, shown: str) -> None:
    assert describe_value(value) == shown


# the fields hold what their types say; raw input goes through parse


@pytest.mark.parametrize(
    "fields",
    [
        {"aspect_ratio": "9:16"},
        {"shot_type": "customize"},
        {"cfg_scale": 1},
        {"multi_prompt": [Shot("a", 5)]},
        {"multi_prompt": ({"prompt": "a", "duration": 5},)},
        {"prompt": f" {PROMPT} "},
        {"multi_prompt": (Shot(" a ", 5),)},
    ],
)
def test_the_constructor_refuses_raw_input(fields: dict[str, Any]) -> None:
    fields.setdefault("prompt", PROMPT)
    with pytest.raises(KlingInputError):
        KlingRequest(**fields)


def test_parse_turns_raw_input_into_typed_fields() -> None:
    request = KlingRequest.parse(
        prompt=f"  {PROMPT} ",
        aspect_ratio="9:16",
        cfg_scale=1,
        shot_type="customize",
        multi_prompt=[{"prompt": " a ", "duration": 5}],
    )
    assert request == KlingRequest(
        prompt=PROMPT,
        aspect_ratio=AspectRatio.TALL,
        cfg_scale=1.0,
        shot_type=ShotType.CUSTOMIZE,
        multi_prompt=(Shot("a", 5),),
    )
