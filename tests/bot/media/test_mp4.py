"""The MP4 index reader and the limits it holds a file to, on indexes written by hand:
every claim past a limit is refused before anything is allocated by it, and an index
whose numbers do not fit its own boxes is damage, not a crash."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bot.media.errors import BadMedia, NotAVideo
from bot.media.limits import BeyondLimits, Breach, MediaLimit, MediaLimits
from bot.media.mp4 import NotMp4
from bot.media.probe import probe
from tests.bot.media.hostile_media import Movie, borrowed_avcc, box, full_box, resized_avcc


@pytest.fixture(scope="module")
def avcc(noisy_silent: Path) -> bytes:
    return borrowed_avcc(noisy_silent)


def breach_of(path: Path, limits: MediaLimits | None = None) -> Breach:
    with pytest.raises(BeyondLimits) as refused:
        probe(path, limits or MediaLimits())
    return refused.value.breach


def test_a_plain_index_gives_its_facts(avcc: bytes, tmp_path: Path) -> None:
    facts = probe(
        Movie(avcc, sound_tracks=1, comment="kling-video-bot fitted-from=123").write(
            tmp_path / "a.mp4"
        )
    )

    assert (facts.width, facts.height, facts.duration_seconds) == (320, 240, 2.0)
    assert facts.frame_rate == 24.0
    assert facts.has_audio
    assert facts.fitted_from_bytes == 123


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"frames": 3_000_000, "frame_size": 1}, Breach(MediaLimit.FRAMES, 3_000_000, 36_000)),
        ({"width": 12_000, "height": 12_000}, Breach(MediaLimit.PICTURE_SIDE, 12_000, 8192)),
        ({"header_size": (7000, 7000)}, Breach(MediaLimit.PICTURE_AREA, 49_000_000, 9_437_184)),
        ({"header_size": (-1, -1)}, Breach(MediaLimit.PICTURE_SIDE, 65_535, 8192)),
        ({"declared_duration": 24 * 86_400 * 7}, Breach(MediaLimit.DURATION, 604_800, 600)),
        ({"frame_delta": 24 * 3600}, Breach(MediaLimit.DURATION, 172_800, 600)),
        ({"timescale": 24_000}, Breach(MediaLimit.FRAME_RATE, 24_000, 240)),
        (
            {"frames": 10, "frame_size": 500_000, "timescale": 200},
            Breach(MediaLimit.BIT_RATE, 800_103_520, 500_000_000),
        ),
        ({"sound_tracks": 300}, Breach(MediaLimit.STREAMS, 17, 16)),
    ],
)
def test_a_claim_past_a_limit_is_refused_with_its_numbers(
    avcc: bytes, tmp_path: Path, changes: dict[str, object], expected: Breach
) -> None:
    movie = Movie(avcc, **changes)  # type: ignore[arg-type]

    assert breach_of(movie.write(tmp_path / "hostile.mp4")) == expected


def test_a_parameter_set_that_contradicts_the_index_is_believed(
    avcc: bytes, tmp_path: Path
) -> None:
    liar = Movie(resized_avcc(avcc, 12_000, 12_000)).write(tmp_path / "liar.mp4")

    assert breach_of(liar) == Breach(MediaLimit.PICTURE_SIDE, 12_000, 8192)


def test_an_index_larger_than_the_limit_is_not_read(avcc: bytes, tmp_path: Path) -> None:
    path = Movie(avcc).write(tmp_path / "a.mp4")
    size = len(find_moov(path.read_bytes()))

    assert breach_of(path, MediaLimits(max_header_bytes=size - 1)) == Breach(
        MediaLimit.HEADER, size, size - 1
    )


def test_a_picture_without_a_size_is_damaged(avcc: bytes, tmp_path: Path) -> None:
    with pytest.raises(BadMedia, match="no picture size"):
        probe(Movie(avcc, width=0, height=0).write(tmp_path / "a.mp4"))


def test_frames_whose_bytes_are_missing_are_a_cut_short_video(avcc: bytes, tmp_path: Path) -> None:
    cut = Movie(avcc, data_bytes=64 * 24).write(tmp_path / "a.mp4")

    with pytest.raises(BadMedia, match=r"cut short: 1\.0 s of an announced 2\.0 s"):
        probe(cut)


def test_an_index_cut_short_is_damaged(avcc: bytes, tmp_path: Path) -> None:
    data = Movie(avcc).bytes()
    cut = tmp_path / "a.mp4"
    cut.write_bytes(data[: data.index(b"moov") + 200])

    with pytest.raises(BadMedia, match="cut short inside its index"):
        probe(cut)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (
            lambda d: d.replace(
                b"stsz\0\0\0\0\0\0\0\x40\0\0\0\x30", b"stsz\0\0\0\0\0\0\0\0\0\0\0\x30"
            ),
            "runs past its box",
        ),
        (
            lambda d: d.replace(b"stco\0\0\0\0\0\0\0\x01", b"stco\0\0\0\0\0\0\x01\0"),
            "runs past its box",
        ),
        (lambda d: d.replace(b"mdhd", b"xxxx"), "no media header"),
        (lambda d: d.replace(b"stts", b"xxxx"), "no frame table"),
        (lambda d: d.replace(b"stco", b"xxxx"), "no chunk table"),
    ],
)
def test_an_index_whose_numbers_do_not_fit_is_damaged(
    avcc: bytes, tmp_path: Path, mangle, message: str
) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(mangle(Movie(avcc).bytes()))

    with pytest.raises(BadMedia, match=message):
        probe(path)


def test_a_box_larger_than_its_parent_is_damaged(avcc: bytes, tmp_path: Path) -> None:
    data = bytearray(Movie(avcc).bytes())
    at = data.index(b"mdia") - 4
    data[at : at + 4] = struct.pack(">I", 0x7FFFFFFF)
    path = tmp_path / "a.mp4"
    path.write_bytes(data)

    with pytest.raises(BadMedia, match="index is damaged"):
        probe(path)


def test_sample_to_chunk_runs_out_of_order_are_damaged(avcc: bytes, tmp_path: Path) -> None:
    data = Movie(avcc).bytes()
    runs = full_box(b"stsc", struct.pack(">7I", 2, 5, 1, 1, 1, 1, 1))  # chunk 5, then chunk 1
    path = tmp_path / "a.mp4"
    path.write_bytes(patched_stsc(data, runs))

    with pytest.raises(BadMedia, match="out of order"):
        probe(path)


def test_too_many_boxes_before_the_index_is_damaged(avcc: bytes, tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(box(b"ftyp", b"isom\0\0\0\0") + box(b"free") * 2000 + Movie(avcc).bytes())

    with pytest.raises(BadMedia, match="too many boxes"):
        probe(path)


def test_a_box_holding_thousands_of_boxes_is_damaged(avcc: bytes, tmp_path: Path) -> None:
    data = Movie(avcc).bytes()
    moov = find_moov(data)
    crowded = box(b"moov", moov[8:], box(b"udta", box(b"free") * 5000))
    path = tmp_path / "a.mp4"
    path.write_bytes(data.replace(moov, crowded))

    with pytest.raises(BadMedia, match="too many boxes"):
        probe(path)


@pytest.mark.parametrize(
    "data",
    [
        b"\x1a\x45\xdf\xa3" + b"\0" * 100,  # Matroska
        b"RIFF\0\0\0\0AVI LIST",
        b"<html>Not Found</html>",
        b"tiny",
        box(b"ftyp", b"iso5\0\0\0\0") + box(b"moov", box(b"mvex")),
        box(b"ftyp", b"iso5\0\0\0\0") + box(b"moof") + box(b"mdat"),
    ],
)
def test_anything_but_a_plain_mp4_is_left_to_ffmpeg(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "a.mp4"
    path.write_bytes(data)

    with pytest.raises(NotMp4):
        probe(path)


def test_an_mp4_without_a_video_track_is_not_a_video(tmp_path: Path) -> None:
    mvhd = full_box(b"mvhd", struct.pack(">IIII", 0, 0, 1000, 0), b"\0" * 80)
    path = tmp_path / "a.mp4"
    path.write_bytes(box(b"ftyp", b"isom\0\0\0\0") + box(b"moov", mvhd))

    with pytest.raises(NotAVideo, match="no video in it"):
        probe(path)


def find_moov(data: bytes) -> bytes:
    at = data.index(b"moov") - 4
    (size,) = struct.unpack(">I", data[at : at + 4])
    return data[at : at + size]


def patched_stsc(data: bytes, stsc: bytes) -> bytes:
    """`data` with its `stsc` box replaced by `stsc` (and every enclosing size fixed)."""
    at = data.index(b"stsc") - 4
    (old,) = struct.unpack(">I", data[at : at + 4])
    grown = len(stsc) - old
    out = bytearray(data[:at] + stsc + data[at + old :])
    for kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
        start = out.index(kind) - 4
        (size,) = struct.unpack(">I", out[start : start + 4])
        out[start : start + 4] = struct.pack(">I", size + grown)
    chunk = out.index(b"stco") + 12
    (offset,) = struct.unpack(">I", out[chunk : chunk + 4])
    out[chunk : chunk + 4] = struct.pack(">I", offset + grown)
    return bytes(out)
