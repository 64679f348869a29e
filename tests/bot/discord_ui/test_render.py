"""How jobs look: the status embed in each state, quoting, costs, final messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.discord_ui.buttons import job_view
from bot.discord_ui.card_text import Shown, failure_text
from bot.discord_ui.render import job_error, quote, shorten, status_embed
from bot.discord_ui.result_card import video_card
from bot.i18n import texts
from bot.jobs.model import Failure, JobState, NoticeState
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest
from tests.bot.discord_ui.cards import text_of as card_text
from tests.bot.jobs.factories import make_job

PRICING = Pricing()


def text_of(embed) -> str:
    data = embed.to_dict()
    parts = [data.get("title", ""), data.get("description", "")]
    parts += [f"{f['name']}: {f['value']}" for f in data.get("fields", [])]
    return "\n".join(parts)


def test_long_prompts_are_shortened_at_a_word_and_marked() -> None:
    text = "word " * 300
    short = shorten(text.strip(), 100)
    assert len(short) <= 100
    assert short.endswith("…")
    assert not short[:-1].endswith(" ")


def test_quoted_prompt_escapes_markdown_and_quotes_every_line() -> None:
    quoted = quote("**bold** line\nsecond `code`", 600)
    assert quoted.splitlines() == ["> \\*\\*bold\\*\\* line", "> second \\`code\\`"]


def test_status_embed_shows_requester_options_state_and_estimate() -> None:
    job = make_job(
        12,
        state=JobState.QUEUED,
        request=KlingRequest.parse(prompt="a fox", duration=10, aspect_ratio="1:1", sound=True),
        estimated_cost=Decimal("1.26"),
        queue_position=2,
        requester_id=55,
    )
    text = text_of(status_embed(job, pricing=PRICING, place_in_line=None))
    assert "> a fox" in text
    assert "<@55>" in text
    assert "10 s · 1:1 · sound on · guidance 0.5" in text
    assert "Queued at RunComfy — position 3 at RunComfy" in text
    assert "≈ $1.26 (10 s × $0.126/s with sound)" in text
    assert "can cancel it until generation starts" in text


def test_waiting_jobs_show_their_place_in_line() -> None:
    job = make_job(3, state=JobState.WAITING)
    assert "#4 in line" in text_of(status_embed(job, pricing=PRICING, place_in_line=4))


def test_running_job_says_it_cannot_be_cancelled_and_has_no_button() -> None:
    job = make_job(3, state=JobState.RUNNING)
    assert "can no longer be cancelled" in text_of(
        status_embed(job, pricing=PRICING, place_in_line=None)
    )
    assert job_view(job) is None


@pytest.mark.parametrize("state", [JobState.NEW, JobState.WAITING, JobState.QUEUED])
def test_cancellable_states_carry_the_cancel_button(state: JobState) -> None:
    view = job_view(make_job(8, state=state))
    assert view is not None
    [button] = view.children
    assert button.custom_id == "video:cancel:8"


def test_real_cost_replaces_the_estimate() -> None:
    job = make_job(3, state=JobState.DELIVERED, cost=Decimal("0.63"))
    assert "$0.63 (estimate was $0.63)" in text_of(
        status_embed(job, pricing=PRICING, place_in_line=None)
    )


def test_cancelled_job_names_who_cancelled() -> None:
    job = make_job(3, state=JobState.CANCELLED, cancelled_by=77)
    assert "Cancelled by <@77>." in text_of(status_embed(job, pricing=PRICING, place_in_line=None))


def test_final_messages_mention_the_requester_and_say_why() -> None:
    failed = make_job(
        4,
        state=JobState.FAILED,
        requester_id=9,
        failure=Failure.GENERATION_FAILED,
        failure_detail="no luck",
    )
    assert failure_text(failed) == (
        "<@9> your video **#4** could not be made. RunComfy could not generate this video: no luck"
    )
    done = make_job(
        4, state=JobState.COMPLETED, requester_id=9, output_url="https://cdn.example.com/v.mp4"
    )
    linked = card_text(video_card(done, Shown(attached=False, link_reason="Too big")))
    assert linked.startswith("<@9> your video **#4** is ready!")
    assert "https://cdn.example.com/v.mp4" in linked
    assert "may expire" in linked


def test_embed_stays_within_discord_limits_for_the_longest_prompt() -> None:
    request = KlingRequest(prompt="x" * 2500, negative_prompt="y" * 2500)
    embed = status_embed(make_job(1, request=request), pricing=PRICING, place_in_line=None)
    assert len(embed) <= 6000
    assert len(embed.description) <= 4096
    assert all(len(field.value) <= 1024 for field in embed.fields)


def test_a_video_that_could_not_be_posted_keeps_its_link_visible() -> None:
    job = make_job(
        6,
        state=JobState.DELIVERY_FAILED,
        notice=NoticeState.FAILED,
        notice_error="missing permission in the channel",
        output_url="https://cdn.example/v.mp4",
    )
    text = text_of(status_embed(job, pricing=PRICING, place_in_line=None))
    assert "could not post the result: missing permission in the channel." in text
    assert "https://cdn.example/v.mp4" in text


@pytest.mark.parametrize(
    ("record", "locale", "shown"),
    [
        (
            "missing_permission: Missing Access",
            "en-US",
            "The bot could not post the result: it lacks a permission in this channel.",
        ),
        (
            "missing_permission: Missing Access",
            "de",
            "Der Bot konnte das Ergebnis nicht posten: ihm fehlt in diesem Kanal eine "
            "Berechtigung.",
        ),
        (
            "discord_error: 503 upstream down",
            "de",
            "Der Bot konnte das Ergebnis nicht posten: Discord hat mit einem Fehler "
            "geantwortet (503 upstream down).",
        ),
        ("unexpected: KeyError", "de", "nicht posten: im Bot ist etwas schiefgelaufen."),
    ],
)
def test_why_a_result_could_not_be_posted_in_the_readers_language(
    record: str, locale: str, shown: str
) -> None:
    job = make_job(
        6,
        state=JobState.DELIVERY_FAILED,
        notice=NoticeState.FAILED,
        notice_error=record,
        output_url="https://cdn.example/v.mp4",
    )
    error = job_error(job, texts(locale))
    assert error is not None
    assert shown in error
    assert "KeyError" not in error, "the bot's insides stay in the log"
