from __future__ import annotations

from pathlib import Path

import pytest

from bot.media.errors import BadMedia, DoesNotFit, FitFailed, FitTimedOut, NotAVideo
from bot.media.fit import fit_to_limit
from bot.media.fit_protocol import FitProgress, partial_path
from bot.media.plan import FitSettings
from bot.media.probe import probe
from tests.bot.media.media_factory import truncate
from tests.bot.media.mp4_boxes import top_level_boxes

LIMIT = 300_000  # the 2 s sources are about 1.3 MB


def test_a_video_with_sound_is_fitted_under_the_limit(
    noisy_with_sound: Path, tmp_path: Path
) -> None:
    source = probe(noisy_with_sound)
    seen: list[FitProgress] = []

    result = fit_to_limit(
        noisy_with_sound,
        tmp_path / "out.mp4",
        limit_bytes=LIMIT,
        time_limit_seconds=60,
        progress=seen.append,
    )

    fitted = probe(tmp_path / "out.mp4")
    assert result.path == tmp_path / "out.mp4"
    assert result.result == fitted
    assert fitted.size_bytes <= LIMIT
    assert fitted.video_codec == "h264"
    assert fitted.has_audio
    assert fitted.duration_seconds == pytest.approx(source.duration_seconds, abs=0.2)
    assert fitted.frame_rate == pytest.approx(source.frame_rate)
    assert (fitted.width, fitted.height) == (320, 240)
    assert not result.resized
    assert result.attempts == 1
    assert seen[0] == FitProgress("started", 1, 0.0)
    assert seen[-1] == FitProgress("encoding", 1, 1.0)
    assert list(tmp_path.iterdir()) == [tmp_path / "out.mp4"]
    assert source.fitted_from_bytes is None
    assert fitted.fitted_from_bytes == source.size_bytes, "the file says what it was fitted from"


def test_fitting_a_fitted_file_again_keeps_the_original_s_size(
    noisy_with_sound: Path, tmp_path: Path
) -> None:
    original = probe(noisy_with_sound)
    first = fit_to_limit(
        noisy_with_sound, tmp_path / "first.mp4", limit_bytes=LIMIT, time_limit_seconds=60
    )
    second = fit_to_limit(
        tmp_path / "first.mp4",
        tmp_path / "second.mp4",
        limit_bytes=first.result.size_bytes * 3 // 4,
        time_limit_seconds=60,
    )
    assert second.result.fitted_from_bytes == original.size_bytes


def test_the_moov_box_comes_before_the_media_data(noisy_with_sound: Path, tmp_path: Path) -> None:
    fit_to_limit(noisy_with_sound, tmp_path / "out.mp4", limit_bytes=LIMIT, time_limit_seconds=60)

    boxes = top_level_boxes(tmp_path / "out.mp4")
    assert boxes.index("moov") < boxes.index("mdat")


def test_a_silent_video_stays_silent(noisy_silent: Path, tmp_path: Path) -> None:
    result = fit_to_limit(
        noisy_silent, tmp_path / "out.mp4", limit_bytes=LIMIT, time_limit_seconds=60
    )

    assert result.result.size_bytes <= LIMIT
    assert not result.result.has_audio


def test_a_tiny_limit_lowers_the_resolution(noisy_silent: Path, tmp_path: Path) -> None:
    limit = 30_000

    result = fit_to_limit(
        noisy_silent, tmp_path / "out.mp4", limit_bytes=limit, time_limit_seconds=60
    )

    assert result.resized
    assert result.result.size_bytes <= limit
    assert result.result.height < 240
    assert result.result.width / result.result.height == pytest.approx(320 / 240, rel=0.03)


def test_a_result_over_the_limit_is_tried_once_more_then_refused(
    noisy_silent: Path, tmp_path: Path
) -> None:
    # Planning as if there were no container or buffer at all makes every try too large.
    reckless = FitSettings(
        container_overhead_bytes=-1_000_000, vbv_seconds=0.0, min_bits_per_pixel=0.0001
    )
    seen: list[FitProgress] = []

    with pytest.raises(DoesNotFit, match="after 2 tries"):
        fit_to_limit(
            noisy_silent,
            tmp_path / "out.mp4",
            limit_bytes=20_000,
            time_limit_seconds=60,
            settings=reckless,
            progress=seen.append,
        )

    assert {progress.attempt for progress in seen} == {1, 2}
    assert list(tmp_path.iterdir()) == []


def test_a_limit_no_picture_can_meet_is_refused_before_encoding(
    noisy_silent: Path, tmp_path: Path
) -> None:
    with pytest.raises(DoesNotFit, match="cannot be made to fit"):
        fit_to_limit(noisy_silent, tmp_path / "out.mp4", limit_bytes=5_000, time_limit_seconds=60)


def test_running_out_of_time_stops_and_leaves_nothing(
    noisy_with_sound: Path, tmp_path: Path
) -> None:
    destination = tmp_path / "out.mp4"

    with pytest.raises(FitTimedOut, match="took too long"):
        fit_to_limit(noisy_with_sound, destination, limit_bytes=LIMIT, time_limit_seconds=0.01)

    assert not destination.exists()
    assert not partial_path(destination).exists()


def test_an_older_file_at_the_destination_is_replaced(noisy_silent: Path, tmp_path: Path) -> None:
    destination = tmp_path / "out.mp4"
    destination.write_bytes(b"old")

    fit_to_limit(noisy_silent, destination, limit_bytes=LIMIT, time_limit_seconds=60)

    assert probe(destination).size_bytes <= LIMIT


def test_sources_that_are_not_videos_are_refused(
    sound_only: Path, noisy_with_sound: Path, tmp_path: Path
) -> None:
    text = tmp_path / "text.mp4"
    text.write_text("hello\n" * 100)
    cut = truncate(noisy_with_sound, tmp_path / "cut.mp4")

    with pytest.raises(NotAVideo):
        fit_to_limit(sound_only, tmp_path / "a.mp4", limit_bytes=LIMIT, time_limit_seconds=60)
    with pytest.raises(NotAVideo):
        fit_to_limit(text, tmp_path / "b.mp4", limit_bytes=LIMIT, time_limit_seconds=60)
    with pytest.raises(BadMedia):
        fit_to_limit(cut, tmp_path / "c.mp4", limit_bytes=LIMIT, time_limit_seconds=60)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.mp4", "text.mp4"]


def test_a_destination_that_cannot_be_written_is_a_failed_fit(
    noisy_silent: Path, tmp_path: Path
) -> None:
    with pytest.raises(FitFailed, match="could not be written"):
        fit_to_limit(
            noisy_silent,
            tmp_path / "no-such-folder" / "out.mp4",
            limit_bytes=LIMIT,
            time_limit_seconds=60,
        )
