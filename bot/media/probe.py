"""Facts about a video, read from its MP4 index rather than from what anyone says about it,
and without FFmpeg, so the bot process can afford them for every delivery.

`probe` reads only the index (`bot.media.mp4`): the sample tables give the real duration
and show a file cut short (frames whose bytes lie past its end), and every claim is held
to `MediaLimits` before it is trusted. Nothing is decoded or demuxed, so no claim can make
the bot allocate by it. A file that is not an MP4 raises `NotMp4`; the worker process
reads it with FFmpeg (`bot.media.deep_probe`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.media.errors import BadMedia, NotAVideo
from bot.media.limits import MediaLimits
from bot.media.mp4 import Movie, Track, read_movie, read_samples

# A file whose frames stop this much before its announced end is cut short.
TRUNCATION_TOLERANCE_SECONDS = 0.5
DEFAULT_LIMITS = MediaLimits()
_CODECS = {
    b"avc1": "h264",
    b"avc3": "h264",
    b"hvc1": "hevc",
    b"hev1": "hevc",
    b"av01": "av1",
    b"vp09": "vp9",
    b"vp08": "vp8",
    b"mp4v": "mpeg4",
    b"jpeg": "mjpeg",
}
"""Sample entry codes by FFmpeg's names for their codecs; others keep their code."""


@dataclass(frozen=True, slots=True)
class MediaFacts:
    duration_seconds: float
    """Measured from the video frames present, not the header's claim."""
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


def fitted_from(tag: str | None) -> int | None:
    """The original's size noted in a `FITTED_FROM_TAG` value, if it is the bot's note."""
    found = _FITTED_FROM.fullmatch(tag or "")
    return int(found[1]) if found else None


def probe(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> MediaFacts:
    """Read `path`'s facts from its index; raise `NotAVideo`, `BadMedia`, `BeyondLimits`,
    or `NotMp4` for a file only FFmpeg can read (never a raw OS error)."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise NotAVideo(f"The file {path.name} is empty.")
        with path.open("rb") as file:
            movie = read_movie(file, size, limits)
    except OSError as error:
        raise BadMedia(f"The file {path.name} cannot be read.") from error
    return _facts(movie, path, size, limits)


def _facts(movie: Movie, path: Path, size: int, limits: MediaLimits) -> MediaFacts:
    videos = [track for track in movie.tracks if track.handler == b"vide"]
    if not videos:
        sound = any(track.handler == b"soun" for track in movie.tracks)
        what = "sound but no picture" if sound else "no video in it"
        raise NotAVideo(f"The file {path.name} has {what}.")
    video = videos[0]
    if not video.entry or min(video.sizes[0]) <= 0:
        raise BadMedia(f"The video {path.name} has no picture size.")
    limits.check_picture(*video.sizes)
    if video.timescale == 0:
        raise BadMedia(f"The video {path.name} has no timing information.")
    frames, ticks = _present_frames(video, size, limits)
    announced = _announced(movie, video)
    for seconds in announced:
        limits.check_duration(seconds)
    duration = ticks / video.timescale
    if frames == 0 or duration <= 0:
        raise BadMedia(f"The video {path.name} has no frames.")
    if frames < 2:
        raise NotAVideo(f"The file {path.name} is a still image, not a video.")
    limits.check_duration(duration)
    limits.check_rates(frames=frames, seconds=duration, size_bytes=size)
    if announced and duration < announced[0] - TRUNCATION_TOLERANCE_SECONDS:
        raise BadMedia(
            f"The video {path.name} is cut short: {duration:.1f} s of an announced "
            f"{announced[0]:.1f} s."
        )
    return MediaFacts(
        duration_seconds=duration,
        width=video.sizes[0][0],
        height=video.sizes[0][1],
        frame_rate=frames / duration,
        video_codec=_CODECS.get(video.entry, video.entry.decode("latin-1").strip()),
        has_audio=any(track.handler == b"soun" for track in movie.tracks),
        size_bytes=size,
        bitrate=round(size * 8 / duration),
        fitted_from_bytes=fitted_from(movie.comment),
    )


def _present_frames(video: Track, file_size: int, limits: MediaLimits) -> tuple[int, int]:
    """How many non-empty frames lie wholly inside the file, and their total duration."""
    samples = read_samples(video, limits)
    frames = ticks = 0
    for size, offset, duration in zip(
        samples.sizes, samples.offsets, samples.durations, strict=False
    ):
        if size and offset + size <= file_size:
            frames += 1
            ticks += duration
    return frames, ticks


def _announced(movie: Movie, video: Track) -> list[float]:
    """The durations the index announces, in seconds: the track's, then the movie's."""
    announced = []
    if video.duration:
        announced.append(video.duration / video.timescale)
    if movie.duration and movie.timescale:
        announced.append(movie.duration / movie.timescale)
    return announced
