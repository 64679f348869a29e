from __future__ import annotations

from pathlib import Path

import pytest

from bot.media.errors import BadMedia, NotAVideo
from bot.media.probe import probe
from tests.bot.media.conftest import SECONDS
from tests.bot.media.media_factory import make_video, truncate


def test_probe_reads_the_facts_of_a_video_with_sound(noisy_with_sound: Path) -> None:
    facts = probe(noisy_with_sound)

    assert facts.duration_seconds == pytest.approx(SECONDS, abs=0.05)
    assert (facts.width, facts.height) == (320, 240)
    assert facts.frame_rate == pytest.approx(10)
    assert facts.video_codec == "h264"
    assert facts.has_audio
    assert facts.size_bytes == noisy_with_sound.stat().st_size
    assert facts.bitrate == pytest.approx(facts.size_bytes * 8 / SECONDS, rel=0.05)


def test_probe_sees_a_video_without_sound(noisy_silent: Path) -> None:
    assert not probe(noisy_silent).has_audio


def test_a_text_file_is_not_a_video(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video, whatever the name says\n" * 20)

    with pytest.raises(NotAVideo, match=r"notes\.mp4 is not a video"):
        probe(text)


def test_an_empty_file_is_not_a_video(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.touch()

    with pytest.raises(NotAVideo, match="empty"):
        probe(empty)


def test_a_sound_file_is_not_a_video(sound_only: Path) -> None:
    with pytest.raises(NotAVideo, match="sound but no picture"):
        probe(sound_only)


def test_a_video_cut_before_its_index_is_bad_media(noisy_with_sound: Path, tmp_path: Path) -> None:
    cut = truncate(noisy_with_sound, tmp_path / "cut.mp4")

    with pytest.raises(BadMedia, match="damaged or cut short") as caught:
        probe(cut)
    assert caught.value.__cause__ is not None  # FFmpeg's words stay in the logs only


def test_a_faststart_video_cut_in_the_middle_is_bad_media(
    noisy_silent: Path, tmp_path: Path
) -> None:
    cut = truncate(noisy_silent, tmp_path / "cut.mp4")

    with pytest.raises(BadMedia, match="cut short"):
        probe(cut)


def test_a_single_frame_is_not_a_video(tmp_path: Path) -> None:
    still = make_video(tmp_path / "still.mp4", seconds=0.1, width=64, height=48)

    with pytest.raises(NotAVideo, match="still image"):
        probe(still)


def test_a_missing_file_is_bad_media(tmp_path: Path) -> None:
    with pytest.raises(BadMedia, match="cannot be read"):
        probe(tmp_path / "nowhere.mp4")
