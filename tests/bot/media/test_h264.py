"""The SPS reader against real x264 output (every profile's layout, scaling matrices,
interlacing) and against parameter sets that end early or hold absurd numbers."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from bot.media.h264 import SpsError, SpsSize, avcc_picture_size, sps_picture_size
from tests.bot.media.hostile_media import borrowed_avcc, resized_avcc


def encode(path: Path, width: int, height: int, options: dict[str, str]) -> Path:
    """A few frames of test pattern through libx264 with `options`."""
    with (
        av.open(f"testsrc2=size={width}x{height}:rate=10:duration=0.3", format="lavfi") as source,
        av.open(str(path), "w", format="mp4") as out,
    ):
        video = out.add_stream("libx264", rate=10)
        video.width, video.height = width, height
        video.pix_fmt = options.pop("pix_fmt", "yuv420p")
        video.codec_context.options = {"preset": "ultrafast", **options}
        for frame in source.decode(video=0):
            out.mux(video.encode(frame.reformat(format=video.pix_fmt)))
        out.mux(video.encode(None))
    return path


@pytest.mark.parametrize(
    ("options", "size"),
    [
        ({"profile": "baseline"}, SpsSize(320, 240)),
        ({"profile": "main"}, SpsSize(320, 240)),
        ({"profile": "high", "x264-params": "cqm=jvt"}, SpsSize(320, 240)),
        ({"profile": "high444", "pix_fmt": "yuv444p", "x264-params": "cqm=jvt"}, SpsSize(320, 240)),
        ({"x264-params": "interlaced=1"}, SpsSize(320, 256)),  # whole pairs of macroblocks
        ({"profile": "high"}, SpsSize(320, 240)),
    ],
)
def test_the_size_of_real_parameter_sets_is_read(
    tmp_path: Path, options: dict[str, str], size: SpsSize
) -> None:
    video = encode(tmp_path / "v.mp4", 320, 240, dict(options))

    assert avcc_picture_size(borrowed_avcc(video)) == size


def test_a_size_off_the_macroblock_grid_is_read_whole_blocks(tmp_path: Path) -> None:
    video = encode(tmp_path / "v.mp4", 200, 90, {})

    assert avcc_picture_size(borrowed_avcc(video)) == SpsSize(208, 96)


def test_a_rewritten_parameter_set_says_what_it_was_told(noisy_silent: Path) -> None:
    avcc = resized_avcc(borrowed_avcc(noisy_silent), 12_000, 12_000)

    assert avcc_picture_size(avcc) == SpsSize(12_000, 12_000)


@pytest.mark.parametrize(
    "nal",
    [
        b"\x67",  # the header byte and nothing else
        b"\x67\x42\xc0\x0b",  # ends before its first number
        b"\x67\x42\xc0\x0b" + b"\x00" * 8 + b"\x01",  # a number of 64 zero bits
    ],
)
def test_a_parameter_set_that_ends_early_or_runs_long_is_an_error(nal: bytes) -> None:
    with pytest.raises(SpsError):
        sps_picture_size(nal)


def test_a_setup_without_a_parameter_set_is_an_error() -> None:
    with pytest.raises(SpsError, match="no parameter set"):
        avcc_picture_size(b"\x01\x42\xc0\x0b\xff\xe0")
