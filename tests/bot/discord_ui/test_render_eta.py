"""When the video should be ready, as the status card and `/video mine` say it, in English
and German: a Discord timestamp labelled as an estimate, the prior said as such, a job
past its estimate taking longer than usual, positions as positions; and a delivered
card's way to the video."""

from __future__ import annotations

import re

import pytest

from bot.discord_ui.panels import mine_embed
from bot.discord_ui.render import eta_line, status_embed
from bot.i18n import texts
from bot.jobs.eta import Basis, Eta
from bot.jobs.model import JobState, NoticeState
from bot.runcomfy.pricing import Pricing
from tests.bot.jobs.factories import make_job

NOW = 1_800_000_000.0
LEARNED = Eta(NOW + 150.4, 12.0, Basis.LEARNED)
PRIOR = Eta(NOW + 155.0, 30.0, Basis.PRIOR, assumed_run=120.0)
TIMESTAMP = re.compile(r"<t:(\d+):R>")


def status_of(embed) -> str:
    fields = embed.to_dict()["fields"]
    return next(field["value"] for field in fields if field["name"] in ("Status", "Status "))


@pytest.mark.parametrize(
    ("language", "learned", "prior", "overdue"),
    [
        (
            "en",
            "Ready ≈ <t:1800000151:R> (estimate)",
            "Ready ≈ <t:1800000155:R> (estimate; no runs seen yet — assuming a run of about 2 min)",
            "Taking longer than usual",
        ),
        (
            "de",
            "Fertig ≈ <t:1800000151:R> (Schätzung)",
            "Fertig ≈ <t:1800000155:R> (Schätzung; noch keine Läufe gesehen — angenommen "
            "wird ein Lauf von etwa 2 Min.)",
            "Dauert länger als üblich",
        ),
    ],
)
def test_the_estimate_is_a_discord_timestamp_labelled_as_an_estimate(
    language: str, learned: str, prior: str, overdue: str
) -> None:
    tr = texts(language)
    assert eta_line(LEARNED, NOW, tr) == learned
    assert eta_line(PRIOR, NOW, tr) == prior
    assert eta_line(LEARNED, LEARNED.at, tr) == overdue, "never a time in the past"
    assert eta_line(None, NOW, tr) is None


@pytest.mark.parametrize(
    ("language", "state", "position", "place", "shown"),
    [
        ("en", JobState.QUEUED, 2, None, "🕒 Queued at RunComfy — position 3 at RunComfy"),
        ("en", JobState.WAITING, None, 4, "⏳ Waiting in line — #4 in line"),
        ("de", JobState.QUEUED, 2, None, "Position 3 bei RunComfy"),
        ("de", JobState.WAITING, None, 4, "Platz 4 in der Warteschlange"),
    ],
)
def test_the_card_shows_positions_as_positions_and_the_estimate_under_them(
    language: str, state: JobState, position: int | None, place: int | None, shown: str
) -> None:
    job = make_job(5, state=state, queue_position=position, locale=language)
    embed = status_embed(
        job, pricing=Pricing(), place_in_line=place, tr=texts(language), eta=LEARNED, now=NOW
    )
    where, when = status_of(embed).splitlines()
    assert shown in where
    assert TIMESTAMP.search(when)
    assert TIMESTAMP.search(when)[1] == "1800000151"
    assert not TIMESTAMP.search(where), "a position is never a time"


def test_a_card_without_an_estimate_shows_the_state_alone() -> None:
    embed = status_embed(make_job(5, state=JobState.FAILED), pricing=Pricing(), place_in_line=None)
    assert "\n" not in status_of(embed)


@pytest.mark.parametrize(
    ("language", "link"),
    [("en", "[see the video]"), ("de", "[zum Video]")],
)
def test_a_delivered_card_links_to_the_video_message(language: str, link: str) -> None:
    job = make_job(
        5,
        state=JobState.DELIVERED,
        notice=NoticeState.SENT,
        notice_message_id=4242,
        guild_id=100,
        channel_id=1000,
    )
    embed = status_embed(job, pricing=Pricing(), place_in_line=None, tr=texts(language))
    assert f"{link}(https://discord.com/channels/100/1000/4242)" in status_of(embed)
    removed = job.update(NOW, deleted_by=7)
    embed = status_embed(removed, pricing=Pricing(), place_in_line=None, tr=texts(language))
    assert "discord.com/channels" not in status_of(embed), "no way to a removed video"


@pytest.mark.parametrize(("language", "word"), [("en", "Ready ≈"), ("de", "Fertig ≈")])
def test_mine_shows_the_estimate_of_jobs_still_on_their_way(language: str, word: str) -> None:
    waited, done = make_job(1, state=JobState.RUNNING), make_job(2, state=JobState.DELIVERED)
    estimates = {1: LEARNED}
    embed = mine_embed(
        [waited, done], texts(language), eta_of=lambda job: estimates.get(job.id), now=NOW
    )
    first, _, second, _ = embed.to_dict()["description"].splitlines()
    assert f"{word} <t:1800000151:R>" in first
    assert "≈ <t:" not in second
