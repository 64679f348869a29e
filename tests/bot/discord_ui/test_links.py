"""Links from RunComfy are shown to members only when they are public https links that fit;
otherwise the message says so and keeps what finds the video again."""

from __future__ import annotations

import pytest

from bot.discord_ui.card_text import Shown
from bot.discord_ui.panels import mine_embed
from bot.discord_ui.render import status_embed
from bot.discord_ui.result_card import video_card
from bot.jobs.model import JobState, NoticeState
from bot.runcomfy.pricing import Pricing
from tests.bot.discord_ui.cards import text_of
from tests.bot.jobs.factories import make_job

SAFE = "https://cdn.example.com/out/video.mp4"
UNSAFE = [
    "http://cdn.example.com/video.mp4",
    "javascript:alert(1)",
    "https://user:pass@cdn.example.com/video.mp4",
    "https://127.0.0.1/video.mp4",
    "https://10.0.0.5/video.mp4",
    "https://cdn.example.com/a b.mp4",
    "https://evil.example\\@cdn.example.com/",
]
TOO_LONG = "https://cdn.example.com/" + "a" * 2000


def completed(url: str, **changes):
    return make_job(7, state=JobState.COMPLETED, output_url=url, request_id="req-42", **changes)


def delivery_failed(url: str):
    return make_job(
        7,
        state=JobState.DELIVERY_FAILED,
        output_url=url,
        request_id="req-42",
        notice=NoticeState.FAILED,
        notice_error="missing permission in the channel",
    )


def link_card(job) -> str:
    """The card of a video posted as its link."""
    return text_of(video_card(job, Shown(attached=False)))


def note_of(job) -> str:
    fields = status_embed(job, pricing=Pricing(), place_in_line=None).to_dict()["fields"]
    return next(field["value"] for field in fields if field["name"] == "Note")


def test_a_public_https_link_is_shown() -> None:
    assert SAFE in link_card(completed(SAFE))
    assert SAFE in note_of(delivery_failed(SAFE))
    assert SAFE in mine_embed([completed(SAFE)]).to_dict()["description"]


@pytest.mark.parametrize("url", UNSAFE)
def test_other_links_are_never_shown(url: str) -> None:
    text = link_card(completed(url))
    assert url not in text
    assert "not safe to show" in text
    assert "#7" in text, "what recovers the video"
    assert "req-42" in text, "what recovers the video"
    note = note_of(delivery_failed(url))
    assert url not in note
    assert "not safe to show" in note
    assert url not in (mine_embed([completed(url)]).to_dict()["description"])


def test_a_link_too_long_for_a_card_is_not_cut_but_explained() -> None:
    text = link_card(completed(TOO_LONG))
    assert len(text) <= 4000
    assert "too long to post" in text
    assert "req-42" in text
    assert len(note_of(delivery_failed(TOO_LONG))) <= 1024
    assert len(mine_embed([completed(TOO_LONG)] * 10).to_dict()["description"]) <= 4096
