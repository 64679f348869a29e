"""Property test of the multishot form: whatever is typed in the boxes is either a request
RunComfy will accept or a refusal naming the shot (or the whole), short enough to show."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.discord_ui.multishot import MAX_SHOTS, MultishotOptions, multishot_request
from bot.runcomfy.given import has_visible_text
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import DURATION_MAX, DURATION_MIN, KlingRequest

FAST = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
prompts = st.one_of(
    st.text(max_size=2600),
    st.text(alphabet=" \u200b\u200e\u0301\u3164|:-5", max_size=20),
)
boxes = st.one_of(
    st.text(max_size=2620),
    st.builds(
        lambda seconds, separator, prompt: f"{seconds}{separator}{prompt}",
        st.integers(0, 20),
        st.sampled_from([" | ", ":", " - ", "s,", " "]),
        prompts,
    ),
)


def attempt(options: MultishotOptions, values: list[str]) -> KlingRequest | KlingInputError:
    try:
        return multishot_request(options, values)
    except KlingInputError as error:
        return error


@settings(parent=FAST)
@given(
    st.lists(boxes, max_size=MAX_SHOTS),
    st.text(min_size=1, max_size=2500),
    st.one_of(st.none(), st.text(max_size=2500)),
)
def test_form_gives_a_request_or_names_what_is_wrong(
    values: list[str], prompt: str, negative: str | None
) -> None:
    options = MultishotOptions(prompt=prompt, negative_prompt=negative)
    request = attempt(options, values)
    if isinstance(request, KlingInputError):
        assert request.field.split(" ")[0] in {"shot", "shots", "prompt", "negative_prompt"}
        assert len(request.user_message) <= 1850
        return
    assert request.multi_prompt is not None
    assert 2 <= len(request.multi_prompt) <= MAX_SHOTS
    assert DURATION_MIN <= request.effective_duration <= DURATION_MAX
    assert all(has_visible_text(shot.prompt) for shot in request.multi_prompt)
