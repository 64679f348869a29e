"""Prompts that show nothing are refused before anything is paid; real text is kept."""

from __future__ import annotations

import pytest

from bot.discord_ui.multishot import MultishotOptions, multishot_request
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import KlingRequest

INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width joiners and non-joiners": "\u200d\u200c\u200d",
    "direction marks": "\u200e\u200f\u202a\u202c\u2066\u2069",
    "word joiner and BOM": "\u2060\ufeff",
    "soft hyphen": "\u00ad",
    "control characters": "\x00\x07\x1b",
    "mixed with spaces": " \u200b \u00a0\u3000\u2028\u2029 \u200b ",
    "combining marks alone": "\u0301\u0308\u20dd",
    "Hangul filler": "\u3164\u3164",
    "blank Braille cell": "\u2800",
    "variation selector": "\ufe0f",
}
VISIBLE = {
    "emoji with ZWJ": "👩\u200d💻",
    "flag": "🇫🇷",
    "combining accent on a letter": "cafe\u0301",
    "right-to-left text with marks": "\u200fשלום",
    "a single digit": "7",
}


@pytest.mark.parametrize("text", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
def test_invisible_text_is_refused_naming_the_field(field: str, text: str) -> None:
    raw = {"prompt": "a fox", field: text}
    with pytest.raises(KlingInputError) as refused:
        KlingRequest.parse(**raw)
    if text.strip():
        assert refused.value.field == field
        assert "invisible" in refused.value.user_message


@pytest.mark.parametrize("text", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_shot_prompts_are_refused_naming_the_shot(text: str) -> None:
    shots = [{"prompt": "a fox", "duration": 3}, {"prompt": text, "duration": 3}]
    with pytest.raises(KlingInputError) as refused:
        KlingRequest.parse(prompt="a fox", duration=6, multi_prompt=shots)
    assert refused.value.field.startswith("multi_prompt shot 2")
    with pytest.raises(KlingInputError) as typed:
        multishot_request(MultishotOptions(prompt="a fox"), ["3 | a fox", f"3 | {text}"])
    assert typed.value.field == "shot 2"


@pytest.mark.parametrize("text", VISIBLE.values(), ids=VISIBLE.keys())
def test_real_text_is_kept_as_typed(text: str) -> None:
    assert KlingRequest.parse(prompt=text).prompt == text
    assert KlingRequest.parse(prompt="a fox", negative_prompt=text).negative_prompt == text
