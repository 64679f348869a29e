from __future__ import annotations

import pytest

from bot.media.errors import DoesNotFit
from bot.media.plan import FitSettings, plan_encode
from bot.media.probe import MediaFacts

MIB = 1024 * 1024
SETTINGS = FitSettings()


def kling(
    *, seconds: float = 15.0, width: int = 1920, height: int = 1080, audio: bool = True
) -> MediaFacts:
    return MediaFacts(
        duration_seconds=seconds,
        width=width,
        height=height,
        frame_rate=24.0,
        video_codec="h264",
        has_audio=audio,
        size_bytes=30 * MIB,
        bitrate=16_000_000,
    )


@pytest.mark.parametrize("limit", [10 * MIB, 50 * MIB, 2 * MIB, 300 * 1024])
@pytest.mark.parametrize("audio", [True, False])
def test_the_worst_case_of_every_plan_is_within_the_limit(limit: int, audio: bool) -> None:
    facts = kling(audio=audio)

    plan = plan_encode(facts, limit, SETTINGS)

    assert plan.worst_case_bytes(facts.duration_seconds, SETTINGS) <= limit
    assert plan.worst_case_bytes(facts.duration_seconds, SETTINGS) > 0.97 * limit


def test_a_1080p_kling_video_keeps_its_size_and_sound_at_10_mib() -> None:
    plan = plan_encode(kling(), 10 * MIB, SETTINGS)

    assert (plan.width, plan.height) == (1920, 1080)
    assert plan.audio_bitrate == SETTINGS.audio_bitrate
    assert 4_500_000 < plan.video_bitrate < 5_500_000


def test_a_silent_video_gives_the_whole_budget_to_the_picture() -> None:
    with_sound = plan_encode(kling(audio=True), 10 * MIB, SETTINGS)
    silent = plan_encode(kling(audio=False), 10 * MIB, SETTINGS)

    assert silent.audio_bitrate is None
    assert silent.video_bitrate > with_sound.video_bitrate


def test_a_small_budget_lowers_the_resolution_keeping_the_shape() -> None:
    plan = plan_encode(kling(), 2 * MIB, SETTINGS)

    assert plan.height < 1080
    assert plan.width % 2 == 0
    assert plan.height % 2 == 0
    assert plan.width / plan.height == pytest.approx(16 / 9, rel=0.02)
    assert plan.video_bitrate / (plan.width * plan.height * 24) >= SETTINGS.min_bits_per_pixel


def test_sound_never_takes_more_than_a_fifth_of_a_small_budget() -> None:
    plan = plan_encode(kling(seconds=10), 500 * 1024, SETTINGS)

    assert plan.audio_bitrate is not None
    assert plan.audio_bitrate < SETTINGS.audio_bitrate


def test_the_resolution_never_drops_below_the_smallest_short_side() -> None:
    plan = plan_encode(kling(audio=False), 120 * 1024, SETTINGS)

    assert (plan.width, plan.height) == (256, SETTINGS.min_short_side)


def test_a_limit_too_small_for_any_picture_does_not_fit() -> None:
    with pytest.raises(DoesNotFit, match=r"15\.0 s video cannot be made to fit in 0\.05 MB"):
        plan_encode(kling(), 50 * 1024, SETTINGS)


def test_a_retry_aims_lower() -> None:
    first = plan_encode(kling(), 10 * MIB, SETTINGS)
    retry = plan_encode(kling(), 10 * MIB, SETTINGS, scale_bitrate=0.8)

    assert retry.video_bitrate == pytest.approx(first.video_bitrate * 0.8, rel=0.001)
