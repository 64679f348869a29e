"""Real test videos made by FFmpeg (through PyAV): a test pattern under moving random
noise, so an encoder has real work to do, optionally with a sine-wave sound track.

Noise is the worst case for a video encoder (nothing repeats between frames), so a
re-encode of these files is harder than of any real Kling video of the same size.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame

SAMPLE_RATE = 48_000


def make_video(
    path: Path,
    *,
    seconds: float,
    width: int,
    height: int,
    fps: int = 10,
    audio: bool = False,
    noise: int = 30,
    crf: int = 12,
    faststart: bool = False,
) -> Path:
    """Write an H.264 MP4 of a noisy test pattern; `crf` low means a high bitrate."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.options = {"preset": "ultrafast", "crf": str(crf)}
        sound = out.add_stream("aac", rate=SAMPLE_RATE) if audio else None
        if sound is not None:
            sound.bit_rate = 128_000
        for frame in _merged(_pattern(seconds, width, height, fps, noise), _sine(seconds, audio)):
            if isinstance(frame, VideoFrame):
                out.mux(video.encode(frame))
            elif sound is not None:
                out.mux(sound.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            out.mux(sound.encode(None))
    return path


def make_audio_only(path: Path, *, seconds: float = 1.0) -> Path:
    """An M4A file: sound, no picture."""
    with av.open(str(path), "w", format="mp4") as out:
        sound = out.add_stream("aac", rate=SAMPLE_RATE)
        for frame in _sine(seconds, True):
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return path


def truncate(source: Path, destination: Path, *, keep: float = 0.5) -> Path:
    """A copy of `source` cut after `keep` of its bytes, like an interrupted download."""
    data = source.read_bytes()
    destination.write_bytes(data[: int(len(data) * keep)])
    return destination


def _pattern(seconds: float, width: int, height: int, fps: int, noise: int) -> Iterator[VideoFrame]:
    graph = (
        f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds},"
        f"noise=alls={noise}:allf=t+u,format=yuv420p"
    )
    with av.open(graph, format="lavfi") as source:
        yield from source.decode(video=0)


def _sine(seconds: float, wanted: bool) -> Iterator[AudioFrame]:
    if not wanted:
        return
    graph = f"sine=frequency=440:duration={seconds}:sample_rate={SAMPLE_RATE}"
    with av.open(graph, format="lavfi") as source:
        yield from source.decode(audio=0)


def _merged(
    video: Iterator[VideoFrame], audio: Iterator[AudioFrame]
) -> Iterator[VideoFrame | AudioFrame]:
    """Frames of both streams in time order, so the muxer can interleave as it goes."""
    return heapq.merge(video, audio, key=lambda frame: frame.time or 0.0)
