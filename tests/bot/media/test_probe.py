from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import av
import pytest

from bot.media.deep_probe import deep_probe
from bot.media.errors import BadMedia, NotAVideo
from bot.media.fit import fit_to_limit
from bot.media.mp4 import NotMp4
from bot.media.probe import probe
from tests.bot.media.conftest import SECONDS
from tests.bot.media.media_factory import make_video, truncate

ROOT = Path(__file__).resolve().parents[3]


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


def test_a_file_that_is_not_an_mp4_is_left_to_ffmpeg(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video, whatever the name says\n" * 20)

    with pytest.raises(NotMp4):
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

    with pytest.raises(BadMedia, match="damaged or cut short"):
        probe(cut)


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


def encode_with_b_frames(path: Path) -> Path:
    """Like a Kling video: high profile with B-frames (composition offsets), with sound."""
    with (
        av.open("testsrc2=size=256x144:rate=24:duration=1.5", format="lavfi") as pictures,
        av.open("sine=duration=1.5:sample_rate=48000", format="lavfi") as sound,
        av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        video = out.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 256, 144, "yuv420p"
        video.codec_context.options = {"preset": "medium", "profile": "high", "bf": "3"}
        audio = out.add_stream("aac", rate=48000)
        for frame in pictures.decode(video=0):
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        for chunk in sound.decode(audio=0):
            out.mux(audio.encode(chunk))
        out.mux(audio.encode(None))
    return path


@pytest.mark.parametrize("kind", ["with sound", "silent, moov first", "b-frames", "fitted"])
def test_the_index_says_what_ffmpeg_says(
    kind: str, noisy_with_sound: Path, noisy_silent: Path, tmp_path: Path
) -> None:
    video = {
        "with sound": lambda: noisy_with_sound,
        "silent, moov first": lambda: noisy_silent,
        "b-frames": lambda: encode_with_b_frames(tmp_path / "b.mp4"),
        "fitted": lambda: (
            fit_to_limit(
                noisy_with_sound, tmp_path / "fit.mp4", limit_bytes=300_000, time_limit_seconds=60
            ).path
        ),
    }[kind]()

    ours, ffmpegs = probe(video), deep_probe(video)

    assert replace(ours, duration_seconds=0, frame_rate=0, bitrate=0) == replace(
        ffmpegs, duration_seconds=0, frame_rate=0, bitrate=0
    )
    assert ours.duration_seconds == pytest.approx(ffmpegs.duration_seconds, abs=0.05)
    assert ours.frame_rate == pytest.approx(ffmpegs.frame_rate, rel=0.02)
    assert ours.bitrate == pytest.approx(ffmpegs.bitrate, rel=0.02)
    assert (ours.fitted_from_bytes is not None) == (kind == "fitted")


def test_the_bot_process_never_loads_ffmpeg() -> None:
    """Everything the bot imports, imported in a fresh interpreter: FFmpeg's bindings stay
    out; only the worker's modules (and tests) load them."""
    worker_only = {"bot.media.fit", "bot.media.fit_worker", "bot.media.deep_probe"}
    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for folder in ("bot", "cogs")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "__main__.py"
    ]
    modules = [name.removesuffix(".__init__") for name in modules]
    loaded = [name for name in modules if name not in worker_only]
    assert len(loaded) > 50
    code = f"import importlib, sys\nfor name in {loaded!r}: importlib.import_module(name)\n"
    code += "print(sorted(m for m in sys.modules if m == 'av' or m.startswith('av.')))"
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
    assert worker_only <= set(modules)
