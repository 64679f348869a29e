"""Edit & re-roll's form: the options line written and read back in every language, what
a member may type into it, what is refused and how, and a form Discord takes for any job."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.discord_ui.edit_form import (
    EditForm,
    EditRule,
    EditValues,
    OptionsGiven,
    edit_values,
    edited_request,
    options_line,
    read_options,
    shot_values,
)
from bot.i18n import available_languages, texts
from bot.runcomfy.input_error import KlingInputError, Rule
from bot.runcomfy.request import AspectRatio, KlingRequest, ShotType
from bot.wording import input_refusal
from testkit.discord.modal_rules import validate_modal
from tests.bot.discord_ui.test_render_properties import requests

FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
LANGUAGES = available_languages()
FOX = KlingRequest(prompt="a fox")


@st.composite
def any_requests(draw: st.DrawFn) -> KlingRequest:
    """Any request the bot accepts, options set or left to RunComfy's defaults."""
    request = draw(requests())
    shots = request.multi_prompt
    return KlingRequest.parse(
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        duration=request.duration if shots else draw(st.one_of(st.none(), st.integers(3, 15))),
        aspect_ratio=draw(st.one_of(st.none(), st.sampled_from([r.value for r in AspectRatio]))),
        cfg_scale=draw(st.one_of(st.none(), st.floats(0.0, 1.0))),
        sound=draw(st.one_of(st.none(), st.booleans())),
        shot_type=ShotType.CUSTOMIZE if shots else None,
        multi_prompt=[shot.to_payload() for shot in shots] if shots else None,
    )


@FAST
@given(any_requests(), st.sampled_from(LANGUAGES))
def test_an_unchanged_form_asks_for_the_same_video(request: KlingRequest, language: str) -> None:
    again = edited_request(edit_values(request, texts(language)), request)
    if request.multi_prompt:
        assert again.multi_prompt is None, "the shots follow in their own form"
        assert again.duration is None
        request = KlingRequest.parse(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            aspect_ratio=request.aspect_ratio,
            cfg_scale=request.cfg_scale,
            sound=request.sound,
        )
    assert again == request, "even options left to RunComfy stay left to it"


@FAST
@given(any_requests(), st.sampled_from(LANGUAGES))
def test_the_form_is_one_discord_takes(request: KlingRequest, language: str) -> None:
    async def submit(*_: object) -> None:
        return None

    for job_id in (1, 2**63 - 1):
        values = edit_values(request, texts(language))
        form = EditForm(
            job_id, values, submit, multishot=bool(request.multi_prompt), tr=texts(language)
        )
        validate_modal(form.to_dict())


@pytest.mark.parametrize(
    ("line", "given"),
    [
        ("10 s · 9:16 · sound on · guidance 0.5", OptionsGiven(10, "9:16", True, 0.5)),
        ("10 s · 9:16 · mit Ton · Prompt-Treue 0,5", OptionsGiven(10, "9:16", True, 0.5)),
        ("guidance 0.8, 1:1, no sound, 7s", OptionsGiven(7, "1:1", False, 0.8)),
        ("12", OptionsGiven(duration=12)),
        ("8 Sekunden; ohne Ton", OptionsGiven(duration=8, sound=False)),
        ("sound off", OptionsGiven(sound=False)),
        ("Ton aus", OptionsGiven(sound=False)),
        ("cfg=1 16 : 9", OptionsGiven(aspect_ratio="16:9", cfg_scale=1.0)),
        ("", OptionsGiven()),
        ("  ·  ", OptionsGiven()),
    ],
)
def test_the_options_are_read_in_any_order_and_language(line: str, given: OptionsGiven) -> None:
    assert read_options(line, "example") == given


@pytest.mark.parametrize(
    ("line", "unread"),
    [
        ("12 parsecs", "parsecs"),
        ("5 s 10 s", "10 s"),
        ("10.5 s", "10.5 s"),
        ("0,5", "0,5"),
        ("sound on, no sound", "sound on"),
        ("loud, quiet", "loud, quiet"),
        ("loud, 10 s, quiet", "loud … quiet"),
    ],
)
def test_what_cannot_be_read_is_quoted_back_with_the_way_to_write_it(
    line: str, unread: str
) -> None:
    with pytest.raises(KlingInputError) as refused:
        read_options(line, "5 s · 16:9")
    assert refused.value.rule is EditRule.OPTIONS_UNREAD
    english = input_refusal(refused.value, texts("en"))
    assert f"could not read: “{unread}”. Write them like `5 s · 16:9`" in english
    german = input_refusal(refused.value, texts("de"))
    assert f"nicht lesen konnte: „{unread}“. Schreib sie wie `5 s · 16:9`" in german


def test_an_endless_line_is_quoted_short() -> None:
    with pytest.raises(KlingInputError) as refused:
        read_options("x" * 300, "")
    assert len(refused.value.facts["part"]) == 100


def test_options_left_out_stay_as_they_were() -> None:
    old = KlingRequest.parse(prompt="a fox", duration=8, aspect_ratio="1:1", sound=False)
    new = edited_request(EditValues("a wolf", "", "10 s"), old)
    assert (new.duration, new.aspect_ratio, new.sound) == (10, AspectRatio.SQUARE, False)
    assert new.prompt == "a wolf"


def test_a_cleared_negative_prompt_is_gone_and_a_padded_prompt_trimmed() -> None:
    old = KlingRequest.parse(prompt="a fox", negative_prompt="rain")
    new = edited_request(EditValues("  a wolf  ", "   ", ""), old)
    assert (new.prompt, new.negative_prompt) == ("a wolf", None)


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        (EditValues("a fox", "", "20 s"), Rule.DURATION_RANGE),
        (EditValues("a fox", "", "guidance 1.5"), Rule.NUMBER_RANGE),
        (EditValues("a fox", "", "4:3"), Rule.ONE_OF),
        (EditValues("a fox", "", "19:16"), Rule.ONE_OF),
        (EditValues("   ", "", ""), Rule.TEXT_REQUIRED),
        (EditValues("\u200b", "", ""), Rule.INVISIBLE_ONLY),
    ],
)
def test_the_request_models_rules_apply(values: EditValues, rule: Rule) -> None:
    with pytest.raises(KlingInputError) as refused:
        edited_request(values, FOX)
    assert refused.value.rule == rule


def test_a_multishot_jobs_options_name_no_length_and_its_shots_come_back() -> None:
    old = KlingRequest.parse(
        prompt="a harbour",
        duration=9,
        shot_type="customize",
        multi_prompt=[{"prompt": "gulls", "duration": 4}, {"prompt": "a boat", "duration": 5}],
    )
    assert options_line(old) == "16:9 · sound on · guidance 0.5"
    assert shot_values(old, 5) == ["4 | gulls", "5 | a boat"]
    with pytest.raises(KlingInputError) as refused:
        edited_request(EditValues("a harbour", "", "10 s"), old)
    assert refused.value.rule is EditRule.OPTIONS_SHOT_LENGTH
    assert "im nächsten Schritt" in input_refusal(refused.value, texts("de"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_line_is_written_in_the_readers_language(language: str) -> None:
    request = KlingRequest.parse(prompt="a fox", duration=7, sound=False, cfg_scale=0.75)
    line = options_line(request, texts(language))
    assert (
        line
        == {
            "en": "7 s · 16:9 · no sound · guidance 0.75",
            "de": "7 s · 16:9 · ohne Ton · Prompt-Treue 0,75",
        }[language]
    )
