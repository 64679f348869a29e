"""How far a video may stray from what Kling makes before the bot refuses to handle it.

A Kling video lasts at most 15 s, is at most about 1080p at 24–30 frames a second, and
weighs a few MB to about 100 MB. A file's header can claim anything — three million
frames, 12,000 × 12,000 pixels, a week of running time, hundreds of tracks — and a
reader that believes the claim allocates by it. So every claim is checked against these
limits, each far above any real Kling output, before anything trusts it; a file past one
is not attached, and the member is told which limit it broke.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from bot.media.errors import MediaError

MIB = 1024 * 1024


class MediaLimit(Enum):
    FRAMES = "frames"
    """Video frames, as declared (or counted, where counting is cheap)."""
    FRAME_RATE = "frame_rate"
    """Frames per second."""
    DURATION = "duration"
    """Seconds, as declared or as the frames add up."""
    BIT_RATE = "bit_rate"
    """The whole file's bits per second."""
    STREAMS = "streams"
    """Tracks of any kind."""
    PICTURE_SIDE = "picture_side"
    """The longer side of a frame, in pixels, by any size the file states."""
    PICTURE_AREA = "picture_area"
    """Pixels in a frame."""
    HEADER = "header"
    """Bytes of header (the MP4 index) to read."""
    MEMORY = "memory"
    """Bytes the re-encoding worker may hold: found only by running out of them."""


@dataclass(frozen=True, slots=True)
class Breach:
    """A file went past `limit`: `found` against `allowed`, in the limit's own unit
    (`found` is None when it is only known to be more, as for MEMORY)."""

    limit: MediaLimit
    found: int | None
    allowed: int


class BeyondLimits(MediaError):
    """The file claims more than any Kling video could; it is not read further."""

    def __init__(self, breach: Breach, message: str | None = None) -> None:
        self.breach = breach
        found = "more than that" if breach.found is None else str(breach.found)
        super().__init__(
            message
            or f"The file is past the {breach.limit.value} limit of {breach.allowed}: {found}."
        )


@dataclass(frozen=True, slots=True)
class MediaLimits:
    """The limits; the defaults are each several times what any Kling video needs."""

    max_frames: int = 36_000
    """Ten minutes at 60 fps; a 15 s Kling video has about 450."""
    max_frame_rate: int = 240
    max_duration_seconds: int = 600
    max_bit_rate: int = 500_000_000
    """500 Mbit/s: 100 MB in 1.6 s; Kling's run at a few Mbit/s."""
    max_streams: int = 16
    max_picture_side: int = 8192
    max_picture_area: int = 4096 * 2304
    """4.5 times a 1080p frame: 4K (either way round) passes."""
    max_header_bytes: int = 8 * MIB
    """An MP4 index of 36,000 frames with sound takes well under 1 MB."""
    max_boxes: int = 1024
    """Top-level MP4 boxes stepped over to find the index; a real file has a handful, and
    a file with more is taken for damaged."""

    def check_picture(self, *sizes: tuple[int, int]) -> None:
        """Every (width, height) the file states, each within the side and area limits."""
        side = max(max(width, height) for width, height in sizes)
        if side > self.max_picture_side:
            raise BeyondLimits(Breach(MediaLimit.PICTURE_SIDE, side, self.max_picture_side))
        area = max(width * height for width, height in sizes)
        if area > self.max_picture_area:
            raise BeyondLimits(Breach(MediaLimit.PICTURE_AREA, area, self.max_picture_area))

    def check_count(self, limit: MediaLimit, found: int) -> None:
        """FRAMES, STREAMS or HEADER: a plain count against its maximum."""
        allowed = {
            MediaLimit.FRAMES: self.max_frames,
            MediaLimit.STREAMS: self.max_streams,
            MediaLimit.HEADER: self.max_header_bytes,
        }[limit]
        if found > allowed:
            raise BeyondLimits(Breach(limit, found, allowed))

    def check_duration(self, seconds: float) -> None:
        if not seconds <= self.max_duration_seconds:  # NaN is no duration either
            raise BeyondLimits(
                Breach(MediaLimit.DURATION, _rounded_up(seconds), self.max_duration_seconds)
            )

    def check_rates(self, *, frames: int, seconds: float, size_bytes: int) -> None:
        """Frames per second and bits per second, over the frames' whole duration."""
        frame_rate = frames / seconds
        if frame_rate > self.max_frame_rate:
            raise BeyondLimits(
                Breach(MediaLimit.FRAME_RATE, _rounded_up(frame_rate), self.max_frame_rate)
            )
        bit_rate = size_bytes * 8 / seconds
        if bit_rate > self.max_bit_rate:
            raise BeyondLimits(
                Breach(MediaLimit.BIT_RATE, _rounded_up(bit_rate), self.max_bit_rate)
            )


def _rounded_up(value: float) -> int:
    return math.ceil(value) if math.isfinite(value) else 2**63 - 1
