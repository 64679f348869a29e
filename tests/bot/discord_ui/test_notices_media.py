"""The video card's wording: facts from the file, the original's link beside a fitted
file, plain reasons when there is no file, and never more than Discord's 4,000 characters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.discord_ui.card_text import TEXT_LIMIT, Shown
from bot.discord_ui.delivery_words import link_reason_text, progress_note
from bot.discord_ui.result_card import video_card
from bot.i18n import texts
from bot.jobs.model import JobState
from bot.media.delivery import (
    DeliveryProgress,
    DeliveryStage,
    LinkReason,
    NoFile,
    fit_reason,
    fit_target,
    media_reason,
)
from bot.media.errors import BadMedia, DoesNotFit, FitFailed, FitTimedOut, MediaError, NotAVideo
from bot.media.limits import BeyondLimits, Breach, MediaLimit
from bot.media.probe import MediaFacts
from tests.bot.discord_ui.cards import assert_discord_takes, text_of
from tests.bot.jobs.factories import make_job

MIB = 1024 * 1024
FACTS = MediaFacts(
    duration_seconds=5.04,
    width=1280,
    height=720,
    frame_rate=24.0,
    video_codec="h264",
    has_audio=True,
    size_bytes=9 * MIB,
    bitrate=15_000_000,
)
URL = "https://files.example.com/out/video.mp4"


def done(url: str = URL, cost: Decimal | None = Decimal("0.63")):
    return make_job(12, state=JobState.COMPLETED, requester_id=9, output_url=url, cost=cost)


def card_text(job, shown: Shown) -> str:
    card = video_card(job, shown)
    assert_discord_takes(card, ("video-12.mp4",) if shown.attached else ())
    return text_of(card)


def test_an_attached_original_states_its_facts_and_cost_without_a_link() -> None:
    text = card_text(done(), Shown(FACTS))
    assert text.endswith("\n5.0 s · 1280×720 · 9.0 MB · cost $0.63")
    assert "http" not in text


def test_a_fitted_file_says_what_it_was_fitted_from_and_links_the_original() -> None:
    text = card_text(done(cost=None), Shown(FACTS, fitted_from=40 * MIB))
    assert "9.0 MB (fitted from 40.0 MB)" in text
    assert "cost" not in text, "no cost when RunComfy reported none"
    assert f"<{URL}>" in text, "the original's link, without a second preview"


def test_a_link_says_why_the_file_is_not_attached() -> None:
    text = card_text(done(), Shown(FACTS, attached=False, link_reason="Because"))
    assert "Because, so here is the link instead" in text
    assert "may expire" in text
    assert text.endswith(URL)
    assert "5.0 s · 1280×720" in text


@pytest.mark.parametrize("fitted_from", [None, 40 * MIB])
@pytest.mark.parametrize("attached", [False, True])
def test_a_link_too_long_for_a_card_is_described_not_posted(
    attached: bool, fitted_from: int | None
) -> None:
    job = done(url="https://files.example.com/" + "a" * 1990)
    shown = Shown(FACTS, attached=attached, fitted_from=fitted_from, link_reason="Too big")
    text = card_text(job, shown)
    assert len(text) <= TEXT_LIMIT
    if attached and fitted_from is None:
        assert "http" not in text
    else:
        assert "too long to post" in text
        assert "https://" not in text


def test_a_link_that_just_fits_is_posted() -> None:
    job = done(url="https://files.example.com/" + "a" * 1450)
    text = card_text(job, Shown(attached=False, link_reason="Too big"))
    assert len(text) <= TEXT_LIMIT
    assert text.endswith(job.output_url)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (NotAVideo("The file job-1-0123456789abcdef.mp4 is not a video."), "not a playable video"),
        (BadMedia("The video job-1-0123456789abcdef.mp4 is cut short."), "damaged or cut short"),
        (MediaError("odd"), "could not be read"),
    ],
)
def test_bad_media_is_described_without_the_bots_file_names(error: MediaError, words) -> None:
    said = link_reason_text(media_reason(error))
    assert words in said
    assert "job-1" not in said


@pytest.mark.parametrize("error", [NotAVideo("x"), BadMedia("y")])
def test_a_fit_that_finds_the_source_bad_says_so_as_the_probe_would(error: MediaError) -> None:
    assert link_reason_text(fit_reason(error, 10 * MIB)) == link_reason_text(media_reason(error))


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (DoesNotFit("x"), "even re-encoded (it had to fit under 9.5 MB)"),
        (FitTimedOut(), "re-encoding it took too long"),
        (FitFailed("worker died"), "re-encoding it failed"),
    ],
)
def test_a_failed_fit_is_explained(error: MediaError, words: str) -> None:
    said = link_reason_text(fit_reason(error, fit_target(10 * MIB)))
    assert said.startswith("The video is too large for this server's upload limit")
    assert words in said


@pytest.mark.parametrize(
    ("known", "english", "german"),
    [
        (
            60 * MIB,
            "The video (60.0 MB) is larger than this server's 10.0 MB upload limit and than "
            "the 50.0 MB the bot downloads",
            "Das Video (60,0 MB) ist größer als das Upload-Limit dieses Servers von 10,0 MB "
            "und als die 50,0 MB, die der Bot herunterlädt",
        ),
        (
            None,
            "The video is larger than this server's 10.0 MB upload limit and than the 50.0 MB "
            "the bot downloads",
            "Das Video ist größer als das Upload-Limit dieses Servers von 10,0 MB und als die "
            "50,0 MB, die der Bot herunterlädt",
        ),
    ],
)
def test_a_video_too_large_to_download_names_its_size_and_both_limits(
    known: int | None, english: str, german: str
) -> None:
    reason = LinkReason(
        NoFile.TOO_LARGE_TO_DOWNLOAD,
        size_bytes=known,
        limit_bytes=10 * MIB,
        download_limit_bytes=50 * MIB,
    )
    assert link_reason_text(reason) == english
    assert link_reason_text(reason, texts("de")) == german


@pytest.mark.parametrize("kind", list(NoFile))
def test_every_reason_has_words_in_every_language(kind: NoFile) -> None:
    reason = LinkReason(kind, size_bytes=MIB, limit_bytes=MIB, download_limit_bytes=MIB)
    english, german = link_reason_text(reason), link_reason_text(reason, texts("de"))
    assert english
    assert german
    assert english != german


@pytest.mark.parametrize(
    ("breach", "english", "german"),
    [
        (
            Breach(MediaLimit.FRAMES, 3_000_000, 36_000),
            "The file RunComfy returned declares 3,000,000 frames, far more than any Kling "
            "video (the bot reads at most 36,000)",
            "Die Datei von RunComfy gibt 3.000.000 Bilder an, weit mehr als jedes Kling-Video "
            "(der Bot liest höchstens 36.000)",
        ),
        (
            Breach(MediaLimit.PICTURE_AREA, 144_000_000, 9_437_184),
            "The file RunComfy returned declares frames of 144.0 megapixels, far larger than "
            "any Kling video (the bot reads at most 9.4)",
            "Die Datei von RunComfy gibt Bilder mit 144,0 Megapixeln an, weit größer als jedes "
            "Kling-Video (der Bot liest höchstens 9,4)",
        ),
        (
            Breach(MediaLimit.BIT_RATE, 3_355_702_000, 500_000_000),
            "The file RunComfy returned holds 3,356 Mbit/s, far more than any Kling video (the "
            "bot reads at most 500 Mbit/s)",
            "Die Datei von RunComfy enthält 3.356 Mbit/s, weit mehr als jedes Kling-Video (der "
            "Bot liest höchstens 500 Mbit/s)",
        ),
        (
            Breach(MediaLimit.MEMORY, None, 1024 * MIB),
            "Reading or re-encoding the video needed more than the 1024.0 MB of memory the bot "
            "allows it",
            "Das Lesen oder Neukodieren des Videos hat mehr als die 1024,0 MB Speicher "
            "gebraucht, die der Bot ihm erlaubt",
        ),
    ],
)
def test_a_file_beyond_a_limit_is_told_with_its_numbers(
    breach: Breach, english: str, german: str
) -> None:
    reason = media_reason(BeyondLimits(breach))

    assert reason == LinkReason(NoFile.BEYOND_LIMITS, breach=breach)
    assert link_reason_text(reason) == english
    assert link_reason_text(reason, texts("de")) == german


@pytest.mark.parametrize("limit", list(MediaLimit))
def test_every_limit_has_words_in_every_language(limit: MediaLimit) -> None:
    reason = LinkReason(NoFile.BEYOND_LIMITS, breach=Breach(limit, 2_000_000_000, 1_000_000))
    english, german = link_reason_text(reason), link_reason_text(reason, texts("de"))

    assert english != link_reason_text(LinkReason(NoFile.BEYOND_LIMITS)), "names its limit"
    assert german != english
    assert ("the bot reads at most" in english) == (limit is not MediaLimit.MEMORY)


def test_a_re_encode_is_shown_while_it_waits_and_runs_and_gone_once_over() -> None:
    target = fit_target(10 * MIB)
    assert progress_note(DeliveryProgress(DeliveryStage.WAITING_TO_FIT, target)) == (
        "⏳ Waiting to re-encode the video to fit this server's upload limit…"
    )
    assert progress_note(DeliveryProgress(DeliveryStage.FITTING, target)) == (
        "🎞️ Re-encoding the video to under 9.5 MB so it plays in Discord…"
    )
    assert progress_note(DeliveryProgress(DeliveryStage.FITTING, target), texts("de")) != (
        progress_note(DeliveryProgress(DeliveryStage.FITTING, target))
    )
    assert progress_note(DeliveryProgress(DeliveryStage.FIT_OVER, target)) is None
