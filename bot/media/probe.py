"""Facts about a video, read from the file itself rather than from what anyone says about it.

`probe` opens the file and demuxes every video packet (no decoding, so it is quick even
for large files): that measures the real duration and notices a file that is cut short,
which the container's header alone would not reveal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from bot.media.errors import BadMedia, MediaError, NotAVideo

# First bytes of containers that hold video, to tell "damaged video" from "not a video"
# when FFmpeg cannot open a file at all (an MP4 cut before its index, for one).
_VIDEO_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"),  # MP4 / MOV
    (4, b"moov"),
    (4, b"mdat"),
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (8, b"AVI "),
)
# A file whose packets stop this much before its announced end is cut short.
_TRUNCATION_TOLERANCE_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class MediaFacts:
    duration_seconds: float
    """Measured from the video packets present, not the header's claim."""
    width: int
    height: int
    frame_rate: float
    video_codec: str
    has_audio: bool
    size_bytes: int
    bitrate: int
    """Whole-file bits per second: size over duration."""
    fitted_from_bytes: int | None = None
    """The original's size, when the bot re-encoded this file to fit (read from the file's
    own tag, so it is known after a restart too)."""


FITTED_FROM_TAG = "comment"
"""The MP4 tag the bot's re-encodes carry their original's size in."""
_FITTED_FROM = re.compile(r"kling-video-bot fitted-from=(\d+)")


def fitted_from_tag(original_bytes: int) -> str:
    return f"kling-video-bot fitted-from={original_bytes}"


def probe(path: Path) -> MediaFacts:
    """Read `path`'s facts; raise `NotAVideo` or `BadMedia` (never a raw av error)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise BadMedia(f"The file {path.name} cannot be read.") from error
    if size == 0:
        raise NotAVideo(f"The file {path.name} is empty.")
    try:
        with av.open(str(path), mode="r") as container:
            return _facts(container, path, size)
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError) as error:
        if _looks_like_video(path):
            raise BadMedia(f"The video {path.name} is damaged or cut short.") from error
        raise NotAVideo(f"The file {path.name} is not a video.") from error


def _facts(container: InputContainer, path: Path, size: int) -> MediaFacts:
    if not container.streams.video:
        what = "sound but no picture" if container.streams.audio else "no video in it"
        raise NotAVideo(f"The file {path.name} has {what}.")
    stream = container.streams.video[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise BadMedia(f"The video {path.name} has no picture size.")
    frames, start, end = _scan_packets(container, stream, path)
    if frames < 2:
        raise NotAVideo(f"The file {path.name} is a still image, not a video.")
    duration = end - start
    announced = _announced_duration(container, stream)
    if announced is not None and duration < announced - _TRUNCATION_TOLERANCE_SECONDS:
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
        fitted_from_bytes=_fitted_from(container),
    )


def _fitted_from(container: InputContainer) -> int | None:
    found = _FITTED_FROM.fullmatch(str(container.metadata.get(FITTED_FROM_TAG, "")))
    return int(found[1]) if found else None


def _scan_packets(
    container: InputContainer, stream: VideoStream, path: Path
) -> tuple[int, float, float]:
    """Count video packets and find the time span they cover, in seconds."""
    time_base = stream.time_base
    if time_base is None:
        raise BadMedia(f"The video {path.name} has no timing information.")
    frames, first, last_end = 0, None, None
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None:
                continue
            frames += 1
            end = packet.pts + (packet.duration or 0)
            first = packet.pts if first is None else min(first, packet.pts)
            last_end = end if last_end is None else max(last_end, end)
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
