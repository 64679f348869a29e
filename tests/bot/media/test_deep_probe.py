"""FFmpeg's reading of what is not an MP4 (the worker's job): the same facts and the same
limits, checked as soon as FFmpeg has read the header and frame by frame as it scans."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from bot.media.deep_probe import deep_probe, read_facts
from bot.media.errors import BadMedia, NotAVideo
from bot.media.limits import BeyondLimits, Breach, MediaLimit, MediaLimits
from tests.bot.media.media_factory import truncate


@pytest.fixture(scope="module")
def matroska(noisy_with_sound: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`noisy_with_sound` remuxed into Matroska: the same packets in another container."""
    path = tmp_path_factory.mktemp("mkv") / "video.mkv"
    with (
        av.open(str(noisy_with_sound)) as source,
        av.open(str(path), "w", format="matroska") as out,
    ):
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        for packet in source.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    return path


def test_a_video_in_another_container_has_the_same_facts(
    matroska: Path, noisy_with_sound: Path
) -> None:
    facts, mp4 = read_facts(matroska), read_facts(noisy_with_sound)

    assert (facts.width, facts.height, facts.video_codec, facts.has_audio) == (
        320,
        240,
        "h264",
        True,
    )
    assert facts.duration_seconds == pytest.approx(mp4.duration_seconds, abs=0.05)
    assert facts.frame_rate == pytest.approx(mp4.frame_rate)


def test_a_text_file_is_not_a_video(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video, whatever the name says\n" * 20)

    with pytest.raises(NotAVideo, match=r"notes\.mp4 is not a video"):
        read_facts(text)


def test_a_matroska_file_cut_short_is_bad_media(matroska: Path, tmp_path: Path) -> None:
    with pytest.raises(BadMedia, match="cut short"):
        deep_probe(truncate(matroska, tmp_path / "cut.mkv", keep=0.3))


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (MediaLimits(max_streams=1), Breach(MediaLimit.STREAMS, 2, 1)),
        (MediaLimits(max_picture_side=300), Breach(MediaLimit.PICTURE_SIDE, 320, 300)),
        (MediaLimits(max_frames=5), Breach(MediaLimit.FRAMES, 6, 5)),
        (MediaLimits(max_duration_seconds=1), Breach(MediaLimit.DURATION, 3, 1)),  # 2.02 s, up
        (MediaLimits(max_frame_rate=5), Breach(MediaLimit.FRAME_RATE, 10, 5)),
    ],
)
def test_ffmpeg_holds_a_file_to_the_same_limits(
    matroska: Path, limits: MediaLimits, expected: Breach
) -> None:
    with pytest.raises(BeyondLimits) as refused:
        deep_probe(matroska, limits)

    assert refused.value.breach == expected
