"""Issue 19's hostile files, and others like them, through the bot's own delivery path:
none is attached, the member is told why, and the bot process never grows by 30 MB for
any of them. The worker that does decode is held to its memory limit when a file makes
FFmpeg allocate without end: it refuses cleanly and never holds more than the limit.

Before the fix, the probe in the bot process demuxed every packet and let FFmpeg decode
the first frames: the first file below grew the process by over 100 MB (and took 13 s),
the second by 380 MB, and both were then attached.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from bot.media.delivery import LinkOnly, LinkReason, NoFile, PreparedVideo
from bot.media.errors import BadMedia
from bot.media.fit_protocol import FitRequest, WorkerLimits, parse_line
from bot.media.fitter import WORKER_COMMAND, WORKER_ENVIRONMENT, VideoFitter
from bot.media.limits import BeyondLimits, Breach, MediaLimit, MediaLimits
from bot.media.plan import FitSettings
from testkit.procstats import memory, reset_peak
from tests.bot.media.delivery_rig import URL, MakeRig
from tests.bot.media.hostile_media import Movie, borrowed_avcc, first_frame, resized_avcc

MIB = 1024 * 1024
GROWTH_ALLOWED = 30 * MIB
UPLOAD_LIMIT = 25 * MIB
"""Above every file here, so a file that passed its checks would be attached as it is."""
BELIEVE_ANYTHING = MediaLimits(
    max_frames=10**9,
    max_frame_rate=10**9,
    max_duration_seconds=10**9,
    max_bit_rate=10**15,
    max_picture_side=10**6,
    max_picture_area=10**12,
)


@dataclass(frozen=True)
class Pieces:
    avcc: bytes
    big_avcc: bytes
    """The same setup, its parameter set rewritten to 12,000 × 12,000."""
    frame: bytes
    """A real picture, so a decoder gets as far as allocating its frame."""
    plain: bytes
    """A real, harmless video."""


@pytest.fixture(scope="module")
def pieces(noisy_silent: Path) -> Pieces:
    avcc = borrowed_avcc(noisy_silent)
    big = resized_avcc(avcc, 12_000, 12_000)
    return Pieces(avcc, big, first_frame(noisy_silent), noisy_silent.read_bytes())


def huge_pictures(p: Pieces) -> Movie:
    """12 frames of 12,000 × 12,000 (0.9 MB): the issue's second file."""
    return Movie(
        p.big_avcc,
        width=12_000,
        height=12_000,
        frames=12,
        frame_size=len(p.frame),
        frame_data=p.frame,
    )


def in_matroska(movie: bytes, path: Path) -> bytes:
    """The same packets in a Matroska file, which only FFmpeg (in the worker) reads."""
    source_path = path.with_suffix(".mp4")
    source_path.write_bytes(movie)
    with av.open(str(source_path)) as source, av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return path.read_bytes()


Hostile = Callable[[Pieces, Path], tuple[bytes, LinkReason]]


def beyond(limit: MediaLimit, found: int, allowed: int) -> LinkReason:
    return LinkReason(NoFile.BEYOND_LIMITS, breach=Breach(limit, found, allowed))


HOSTILE: dict[str, Hostile] = {
    "3 million one-byte frames": lambda p, _: (
        Movie(p.avcc, frames=3_000_000, frame_size=1).bytes(),
        beyond(MediaLimit.FRAMES, 3_000_000, 36_000),
    ),
    "12,000 x 12,000 frames": lambda p, _: (
        huge_pictures(p).bytes(),
        beyond(MediaLimit.PICTURE_SIDE, 12_000, 8192),
    ),
    "320 x 240 in the index, 12,000 x 12,000 in the parameter set": lambda p, _: (
        Movie(p.big_avcc, frames=12, frame_size=len(p.frame), frame_data=p.frame).bytes(),
        beyond(MediaLimit.PICTURE_SIDE, 12_000, 8192),
    ),
    "12,000 x 12,000 frames in Matroska": lambda p, tmp: (
        in_matroska(huge_pictures(p).bytes(), tmp / "huge.mkv"),
        beyond(MediaLimit.PICTURE_SIDE, 12_000, 8192),
    ),
    "a declared running time of a year": lambda p, _: (
        Movie(p.avcc, declared_duration=24 * 365 * 86_400).bytes(),
        beyond(MediaLimit.DURATION, 365 * 86_400, 600),
    ),
    "300 tracks": lambda p, _: (
        Movie(p.avcc, sound_tracks=300).bytes(),
        beyond(MediaLimit.STREAMS, 17, 16),
    ),
    "8 MB in 20 ms": lambda p, _: (
        Movie(p.avcc, frames=4, frame_size=2 * MIB, timescale=200).bytes(),
        beyond(MediaLimit.BIT_RATE, 3_355_702_000, 500_000_000),
    ),
    "a picture of no size": lambda p, _: (
        Movie(p.avcc, width=0, height=0).bytes(),
        LinkReason(NoFile.DAMAGED),
    ),
    "a negative size in the track header": lambda p, _: (
        Movie(p.avcc, header_size=(-12_000, -12_000)).bytes(),
        beyond(MediaLimit.PICTURE_SIDE, 53_536, 8192),
    ),
    "an index cut short": lambda p, _: (
        Movie(p.avcc).bytes()[:300],
        LinkReason(NoFile.DAMAGED),
    ),
}


def resident() -> int:
    return memory(os.getpid()).rss_bytes


def peak() -> int:
    return memory(os.getpid()).peak_bytes


@pytest.mark.parametrize("name", HOSTILE)
async def test_a_hostile_file_is_not_attached_and_the_bot_does_not_grow(
    make_rig: MakeRig, pieces: Pieces, tmp_path: Path, name: str
) -> None:
    data, reason = HOSTILE[name](pieces, tmp_path)
    warm_up = await make_rig(pieces.plain)
    assert isinstance(
        await warm_up.delivery.prepare(1, URL, upload_limit=UPLOAD_LIMIT), PreparedVideo
    )
    rig = await make_rig(data)
    gc.collect()
    before = resident()
    assert reset_peak(os.getpid()), "needs /proc/self/clear_refs (Linux 4.0 or later)"

    outcome = await rig.delivery.prepare(7, URL, upload_limit=UPLOAD_LIMIT)

    grown = peak() - before
    assert outcome == LinkOnly(reason)
    assert rig.cache.job_ids() == [1]
    assert rig.leftovers() == []
    assert grown < GROWTH_ALLOWED, f"the bot process grew by {grown / MIB:.0f} MiB"


def test_the_sizes_here_are_what_the_issue_measured(pieces: Pieces) -> None:
    """The two files of the issue: 3 MB of one-byte frames, 0.9 MB of huge frames."""
    assert len(HOSTILE["3 million one-byte frames"](pieces, Path())[0]) == pytest.approx(
        3e6, rel=0.01
    )
    assert len(huge_pictures(pieces).bytes()) == pytest.approx(0.95e6, rel=0.1)


WORKER_MEMORY = 512 * MIB


def test_a_worker_told_to_believe_a_huge_picture_runs_out_of_memory_cleanly(
    pieces: Pieces, tmp_path: Path
) -> None:
    """With the limits lifted, only the worker's memory limit stands between the file and
    the machine: the fit is refused (as a broken limit or as damage, wherever FFmpeg's
    allocation failed), nothing is left behind, and the worker never held the limit."""
    source = huge_pictures(pieces).write(tmp_path / "huge.mp4")
    destination = tmp_path / "fitted.mp4"
    request = FitRequest(
        source=source,
        destination=destination,
        limit_bytes=MIB,
        time_limit_seconds=60,
        settings=FitSettings(),
        worker=WorkerLimits(memory_bytes=WORKER_MEMORY, media=BELIEVE_ANYTHING),
    )

    worker = subprocess.run(
        WORKER_COMMAND,
        input=request.to_json(),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **WORKER_ENVIRONMENT},
    )

    assert worker.returncode == 0, worker.stderr
    last = worker.stdout.splitlines()[-1]
    refusal = parse_line(last)
    assert isinstance(refusal, BeyondLimits | BadMedia), last
    if isinstance(refusal, BeyondLimits):
        assert refusal.breach == Breach(MediaLimit.MEMORY, None, WORKER_MEMORY)
    assert 200 * MIB < json.loads(last)["peak_rss_bytes"] < WORKER_MEMORY
    assert sorted(path.name for path in tmp_path.iterdir()) == ["huge.mp4"]


async def test_the_fitter_runs_its_workers_under_the_memory_limit(
    pieces: Pieces, tmp_path: Path
) -> None:
    fitter = VideoFitter(memory_bytes=WORKER_MEMORY, limits=BELIEVE_ANYTHING)
    source = huge_pictures(pieces).write(tmp_path / "huge.mp4")

    with pytest.raises((BeyondLimits, BadMedia)):
        await fitter.fit(source, tmp_path / "out.mp4", limit_bytes=MIB, time_limit_seconds=60)


async def test_the_worker_refuses_a_huge_picture_before_decoding_it(
    pieces: Pieces, tmp_path: Path
) -> None:
    source = huge_pictures(pieces).write(tmp_path / "huge.mp4")

    with pytest.raises(BeyondLimits) as refused:
        await VideoFitter().fit(
            source, tmp_path / "out.mp4", limit_bytes=MIB, time_limit_seconds=60
        )

    assert refused.value.breach == Breach(MediaLimit.PICTURE_SIDE, 12_000, 8192)
