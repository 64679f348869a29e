"""Property tests: every final message the bot can build (the video card attached, re-encoded
or as a link, the failure card, the short card), for any job it could hold and in every
language, is a Components V2 layout Discord takes: 40 components, 4,000 characters of
text, buttons and custom ids within their limits, the video named as an attachment."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from discord.components import _component_factory
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.discord_ui.card_text import (
    NEGATIVE_CARD_CHARS,
    PROMPT_CARD_CHARS,
    Shown,
    card_texts,
    notice_marker,
    ready_heading,
)
from bot.discord_ui.result_card import (
    failure_card,
    layout_texts,
    short_card,
    video_card,
    video_filename,
)
from bot.i18n import available_languages, texts
from bot.jobs.model import Job, JobState
from bot.media.probe import MediaFacts
from bot.runcomfy.request import (
    MULTI_PROMPT_MAX_ITEMS,
    NEGATIVE_PROMPT_MAX_CHARS,
    PROMPT_MAX_CHARS,
    KlingRequest,
    Shot,
)
from tests.bot.discord_ui.cards import assert_discord_takes, custom_ids_of, media_of, text_of
from tests.bot.discord_ui.test_render_properties import jobs, long_text
from tests.bot.jobs.factories import make_job

FAST = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
LANGUAGES = available_languages()
MIB = 1024 * 1024
FACTS = MediaFacts(
    duration_seconds=15.0,
    width=1920,
    height=1080,
    frame_rate=24.0,
    video_codec="h264",
    has_audio=True,
    size_bytes=9999 * MIB,
    bitrate=1,
)
HEAVY = "*_`~|>#-@<:\\\n "
"""Characters that grow when escaped and quoted, and that start mentions."""


def beyond_the_model(request: KlingRequest, **fields: object) -> KlingRequest:
    """`request` with fields the request model would refuse together (20 shots cannot
    fit 15 s), built around its checks: RunComfy's schema allows 20 shots, so a card
    must hold them."""
    built = object.__new__(KlingRequest)
    for name in KlingRequest.__dataclass_fields__:
        object.__setattr__(built, name, fields.get(name, getattr(request, name)))
    return built


def worst_request(text: str = "w") -> KlingRequest:
    """The longest of everything: prompt and negative prompt at 2,500 characters, 20
    shots of 512, all of it markdown that grows when escaped."""
    heavy = (text + HEAVY) * 2500
    return beyond_the_model(
        KlingRequest(prompt="x"),
        prompt=("x" + heavy)[:PROMPT_MAX_CHARS],
        negative_prompt=("y" + heavy)[:NEGATIVE_PROMPT_MAX_CHARS],
        duration=15,
        multi_prompt=tuple(Shot(("z" + heavy)[:512], 15) for _ in range(MULTI_PROMPT_MAX_ITEMS)),
    )


@st.composite
def worst_requests(draw: st.DrawFn) -> KlingRequest:
    """Long, markdown-heavy requests up to the model's limits and past its shot count."""
    alphabet = st.sampled_from([*HEAVY, "a", "ß", "🎬", "\u200b"])
    prompt = "x" + draw(st.text(alphabet, min_size=0, max_size=PROMPT_MAX_CHARS - 1))
    negative = draw(st.one_of(st.none(), st.text(alphabet, max_size=NEGATIVE_PROMPT_MAX_CHARS)))
    shots = draw(st.lists(st.text(alphabet, min_size=1, max_size=512), max_size=20))
    return beyond_the_model(
        KlingRequest(prompt="x"),
        prompt=prompt,
        negative_prompt=("y" + negative)[:NEGATIVE_PROMPT_MAX_CHARS] if negative else None,
        multi_prompt=tuple(Shot(text, 3) for text in shots) or None,
    )


def shown_ways() -> list[Shown]:
    reason = "x" * 3000
    return [
        Shown(FACTS),
        Shown(FACTS, fitted_from=99_999 * MIB),
        Shown(FACTS, attached=False, link_reason=reason),
        Shown(None, attached=False),
    ]


def assert_every_card_fits(job: Job) -> None:
    for language in LANGUAGES:
        tr = texts(language)
        for shown in shown_ways():
            card = video_card(job, shown, tr=tr)
            assert_discord_takes(card, (video_filename(job),) if shown.attached else ())
            text = text_of(card)
            assert text.startswith(ready_heading(job, tr)), "the requester is mentioned first"
            assert media_of(card) == ([f"attachment://{video_filename(job)}"] * shown.attached)
        for card in (failure_card(job, tr=tr), short_card(job, tr=tr)):
            assert_discord_takes(card)
            assert f"<@{job.requester_id}>" in text_of(card)


@FAST
@given(jobs(), st.sampled_from([JobState.COMPLETED, JobState.FAILED, JobState.TIMED_OUT]))
def test_every_card_fits_for_any_job(job: Job, state: JobState) -> None:
    assert_every_card_fits(replace(job, state=state))


@FAST
@given(worst_requests(), long_text)
@example(worst_request(), "why " * 700)
def test_every_card_fits_the_longest_request(request: KlingRequest, detail: str) -> None:
    job = make_job(
        2**63 - 1,
        state=JobState.COMPLETED,
        requester_id=2**63 - 1,
        request=request,
        output_url="https://cdn.example.com/" + "a" * 1476,
        request_id="r" * 80,
        cost=Decimal("99999.99"),
        failure_detail=detail,
    )
    assert_every_card_fits(job)
    assert_every_card_fits(replace(job, state=JobState.FAILED))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_longest_request_still_shows_a_good_share_of_each_part(language: str) -> None:
    tr = texts(language)
    job = make_job(7, state=JobState.COMPLETED, request=worst_request(), output_url=None)
    parts = card_texts(ready_heading(job, tr), job.request, "5.0 s · 1920×1080 · 9.0 MB", tr)
    assert sum(map(len, parts)) <= 4000
    _, prompt, details, _ = parts
    assert prompt.startswith("> x")
    assert PROMPT_CARD_CHARS // 2 < len(prompt) <= PROMPT_CARD_CHARS
    options, avoid, shots_heading, first_shot, *_, last = details.splitlines()
    assert options.startswith(f"**{tr('status.options')}** 15 s")
    assert avoid.startswith(f"**{tr('status.avoid')}** y")
    assert NEGATIVE_CARD_CHARS // 4 < len(avoid) <= NEGATIVE_CARD_CHARS
    assert shots_heading == f"**{tr('status.shots')}**"
    assert first_shot.startswith("1. 15 s — z")
    assert len(first_shot) > 40
    assert last == "…", "the shots that do not fit are left out, and marked"


def test_a_card_names_the_job_so_it_is_found_again() -> None:
    for state in (JobState.COMPLETED, JobState.FAILED, JobState.TIMED_OUT):
        job = make_job(41, state=state, output_url="https://cdn.example.com/v.mp4")
        card = video_card(job, Shown(FACTS)) if state is JobState.COMPLETED else failure_card(job)
        assert notice_marker(job) in text_of(card)


def test_a_prompt_cannot_pretend_to_be_another_jobs_card() -> None:
    request = KlingRequest(prompt="**#5** is ready! **#5** could not be made.")
    job = make_job(6, state=JobState.COMPLETED, request=request)
    assert "**#5**" not in text_of(video_card(job, Shown(FACTS))), "its markdown is escaped"


def test_the_buttons_of_each_card() -> None:
    done = make_job(8, state=JobState.COMPLETED)
    assert custom_ids_of(video_card(done, Shown(FACTS))) == [
        "video:reroll:8",
        "video:edit:8",
        "video:delete:8",
    ]
    failed = make_job(8, state=JobState.FAILED)
    assert custom_ids_of(failure_card(failed)) == ["video:reroll:8"]
    assert custom_ids_of(failure_card(make_job(8, state=JobState.TIMED_OUT))) == []


def test_a_card_read_back_from_discord_is_recognised_by_its_text() -> None:
    """After a crash the channel's history is searched for the card: discord.py reads the
    message's layout back into components, whose text displays carry the job's marker."""
    job = make_job(77, state=JobState.COMPLETED, output_url="https://cdn.example.com/v.mp4")
    card = video_card(job, Shown(FACTS))
    read_back = [_component_factory(data) for data in card.to_components()]
    assert notice_marker(job) in "\n".join(layout_texts(read_back))
    assert list(layout_texts(read_back)) == text_of(card).split("\n")
