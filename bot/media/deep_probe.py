"""Facts about a video that is not an MP4, read by FFmpeg: for the worker process only.

Opening a file with FFmpeg decodes a few frames to learn their format, and counting its
frames means demuxing every packet; either allocates by what the file claims. So this
runs in the worker (`bot.media.fit_worker`) under its memory and time limits, never in
the bot process, and checks the claims against `MediaLimits` as soon as FFmpeg has read
them: before the scan, and frame by frame during it.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from bot.media.errors import BadMedia, MediaError, NotAVideo
from bot.media.limits import BeyondLimits, Breach, MediaLimit, MediaLimits
from bot.media.mp4 import NotMp4
from bot.media.probe import (
    DEFAULT_LIMITS,
    FITTED_FROM_TAG,
    TRUNCATION_TOLERANCE_SECONDS,
    MediaFacts,
    fitted_from,
    probe,
)

# First bytes of containers that hold video, to tell "damaged video" from "not a video"
# when FFmpeg cannot open a file at all (an MP4 cut before its index, for one).
_VIDEO_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"),  # MP4 / MOV
    (4, b"moov"),
    (4, b"mdat"),
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (8, b"AVI "),
)


def read_facts(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> MediaFacts:
    """`probe`'s facts for an MP4; FFmpeg's (`deep_probe`) for anything else."""
    try:
        return probe(path, limits)
    except NotMp4:
        return deep_probe(path, limits)


def deep_probe(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> MediaFacts:
    """Read `path`'s facts with FFmpeg; raise `NotAVideo`, `BadMedia` or `BeyondLimits`
    (never a raw av error)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise BadMedia(f"The file {path.name} cannot be read.") from error
    if size == 0:
        raise NotAVideo(f"The file {path.name} is empty.")
    try:
        with av.open(str(path), mode="r") as container:
            return _facts(container, path, size, limits)
    except (MediaError, MemoryError):
        raise
    except (av.FFmpegError, OSError, ValueError) as error:
        if _looks_like_video(path):
            raise BadMedia(f"The video {path.name} is damaged or cut short.") from error
        raise NotAVideo(f"The file {path.name} is not a video.") from error


def _facts(container: InputContainer, path: Path, size: int, limits: MediaLimits) -> MediaFacts:
    limits.check_count(MediaLimit.STREAMS, len(container.streams))
    if not container.streams.video:
        what = "sound but no picture" if container.streams.audio else "no video in it"
        raise NotAVideo(f"The file {path.name} has {what}.")
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise BadMedia(f"The video {path.name} has no picture size.")
    limits.check_picture((width, height))
    limits.check_count(MediaLimit.FRAMES, stream.frames)
    announced = _announced_duration(container, stream)
    if announced is not None:
        limits.check_duration(announced)
    frames, start, end = _scan_packets(container, stream, path, limits)
    if frames < 2:
        raise NotAVideo(f"The file {path.name} is a still image, not a video.")
    duration = end - start
    if duration <= 0:
        raise BadMedia(f"The video {path.name} has no timing information.")
    limits.check_duration(duration)
    limits.check_rates(frames=frames, seconds=duration, size_bytes=size)
    if announced is not None and duration < announced - TRUNCATION_TOLERANCE_SECONDS:
        raise BadMedia(
            f"The video {path.name} is cut short: {duration:.1f} s of an announced "
            f"{announced:.1f} s."
        )
    rate = stream.average_rate or stream.guessed_rate or Fraction(frames) / Fraction(duration)
    return MediaFacts(
        duration_seconds=duration,
        width=width,
        height=height,
        frame_rate=float(rate),
        video_codec=stream.codec_context.name,
        has_audio=bool(container.streams.audio),
        size_bytes=size,
        bitrate=round(size * 8 / duration),
        fitted_from_bytes=fitted_from(str(container.metadata.get(FITTED_FROM_TAG, ""))),
    )


def _scan_packets(
    container: InputContainer, stream: VideoStream, path: Path, limits: MediaLimits
) -> tuple[int, float, float]:
    """Count video packets (no more than the limit) and find the time span they cover."""
    time_base = stream.time_base
    if time_base is None:
        raise BadMedia(f"The video {path.name} has no timing information.")
    frames, first, last_end = 0, None, None
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            frames += 1
            if frames > limits.max_frames:
                raise BeyondLimits(Breach(MediaLimit.FRAMES, frames, limits.max_frames))
            end = packet.pts + (packet.duration or 0)
            first = packet.pts if first is None else min(first, packet.pts)
            last_end = end if last_end is None else max(last_end, end)
    except MemoryError:
        raise
    except av.FFmpegError as error:
        raise BadMedia(f"The video {path.name} is damaged or cut short.") from error
    if first is None or last_end is None:
        raise BadMedia(f"The video {path.name} has no frames.")
    return frames, float(first * time_base), float(last_end * time_base)


def _announced_duration(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _looks_like_video(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            head = file.read(16)
    except OSError:
        return False
    return any(head[at : at + len(magic)] == magic for at, magic in _VIDEO_SIGNATURES)
