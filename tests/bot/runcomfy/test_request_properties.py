"""Property test of `KlingRequest.parse`: any raw input is either a request RunComfy will
accept (and that survives its own payload) or a refusal naming the field, short enough to
show in Discord, worded the same by the English catalog and in German within the room."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import texts as language_texts
from bot.runcomfy.given import has_visible_text
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import PROMPT_MAX_CHARS, KlingRequest
from bot.wording import input_refusal

FAST = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
FIELDS = (
    "prompt",
    "negative_prompt",
    "duration",
    "aspect_ratio",
    "cfg_scale",
    "sound",
    "shot_type",
    "multi_prompt",
)
REPLY_ROOM = 1900
"""A refusal is shown as `❌ {message} Nothing was sent or charged.` within 2,000."""

texts = st.one_of(
    st.text(max_size=2600),
    st.text(alphabet=" \u200b\u200d\u200e\u00ad\u0301\u3164\t\n", max_size=30),
    st.text(alphabet="ab \u200d👩\u0301", min_size=1, max_size=30),
)
anything = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), texts)
shots = st.one_of(
    anything,
    st.lists(
        st.one_of(
            st.fixed_dictionaries({"prompt": texts, "duration": st.integers(0, 20)}),
            anything,
        ),
        max_size=22,
    ),
)


def raw_inputs() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"prompt": st.one_of(texts, anything)},
        optional={
            "negative_prompt": st.one_of(texts, anything),
            "duration": st.one_of(st.integers(0, 20), anything),
            "aspect_ratio": st.one_of(st.sampled_from(["16:9", "9:16", "1:1", "4:3"]), anything),
            "cfg_scale": st.one_of(st.floats(-1, 2), anything),
            "sound": anything,
            "shot_type": st.one_of(st.sampled_from(["intelligent", "customize"]), anything),
            "multi_prompt": shots,
        },
    )


def check_accepted(request: KlingRequest) -> None:
    prompts = [request.prompt, *(shot.prompt for shot in request.multi_prompt or ())]
    if request.negative_prompt is not None:
        prompts.append(request.negative_prompt)
    for text in prompts:
        assert 0 < len(text) <= PROMPT_MAX_CHARS
        assert text == text.strip()
        assert has_visible_text(text)
    assert KlingRequest.from_payload(request.to_payload()) == request


def attempt(raw: dict[str, Any]) -> KlingRequest | KlingInputError:
    try:
        return KlingRequest.parse(**raw)
    except KlingInputError as error:
        return error


@FAST
@given(raw_inputs())
def test_parse_accepts_a_valid_request_or_names_the_field(raw: dict[str, Any]) -> None:
    result = attempt(raw)
    if isinstance(result, KlingInputError):
        assert result.field.split(" ")[0] in FIELDS
        assert len(result.user_message) <= REPLY_ROOM
        assert input_refusal(result, language_texts("en-US")) == result.user_message
        assert len(input_refusal(result, language_texts("de"))) <= REPLY_ROOM
    else:
        check_accepted(result)
