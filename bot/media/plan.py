"""How to encode a video so it fits a size limit: pure arithmetic, no media.

The size bound comes from the encoder's VBV rule: with `maxrate` R and `bufsize` B, any
stretch of T seconds holds at most R·T + B bits, so a whole video of duration D is at most
R·(D + B/R). The plan picks R from the limit after setting aside the container's
overhead and the sound track, so a single pass fits without a second try in practice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.media.errors import DoesNotFit
from bot.media.probe import MediaFacts


@dataclass(frozen=True, slots=True)
class FitSettings:
    """Tunable knobs of a fit; the defaults suit Kling's 720p/1080p, 24–30 fps output."""

    preset: str = "veryfast"
    """x264 speed preset: the fit must take no longer than the video lasts on two cores."""
    audio_bitrate: int = 96_000
    container_overhead_fraction: float = 0.01
    container_overhead_bytes: int = 16 * 1024
    """MP4 index and headers: about 12 bytes a frame, plus a few boxes."""
    audio_overshoot: float = 1.05
    """FFmpeg's AAC encoder may run a little above its nominal bitrate."""
    vbv_seconds: float = 1.0
    """Encoder buffer, in seconds at the target rate: larger is better looking, less tight."""
    min_bits_per_pixel: float = 0.075
    """Below this many bits per pixel per frame H.264 looks blocky; lower the resolution."""
    min_short_side: int = 144
    min_video_bitrate: int = 32_000
    retry_margin: float = 0.9
    """On a retry, aim this much under the bitrate that the overshoot suggests."""
    max_threads: int = 4
    """Decoder and encoder threads each (FFmpeg's own choice below this: cores + 1 and
    1.5 × cores): every thread holds frames, so capping them keeps a worker's memory
    within its limit on a machine with many cores."""


@dataclass(frozen=True, slots=True)
class EncodePlan:
    video_bitrate: int
    """Target and VBV maximum rate, bits per second."""
    bufsize_bits: int
    audio_bitrate: int | None
    """None when there is no sound to keep."""
    width: int
    height: int

    def worst_case_bytes(self, duration_seconds: float, settings: FitSettings) -> int:
        """The largest file this plan can produce by the VBV bound, overhead included."""
        video = self.video_bitrate * duration_seconds + self.bufsize_bits
        audio = (self.audio_bitrate or 0) * duration_seconds * settings.audio_overshoot
        payload = (video + audio) / 8 + settings.container_overhead_bytes
        return math.ceil(payload / (1 - settings.container_overhead_fraction))


def plan_encode(
    facts: MediaFacts, limit_bytes: int, settings: FitSettings, *, scale_bitrate: float = 1.0
) -> EncodePlan:
    """The bitrates and picture size that keep `facts`' video under `limit_bytes`.

    `scale_bitrate` below 1 aims lower, for a retry after a result came out too large.
    Raises `DoesNotFit` when even the lowest acceptable bitrate is too much.
    """
    duration = facts.duration_seconds
    budget_bits = (
        limit_bytes * (1 - settings.container_overhead_fraction) - settings.container_overhead_bytes
    ) * 8
    audio_bitrate = _audio_bitrate(facts, budget_bits / duration, settings)
    audio_bits = (audio_bitrate or 0) * duration * settings.audio_overshoot
    video_seconds = duration + settings.vbv_seconds
    video_bitrate = int((budget_bits - audio_bits) / video_seconds * scale_bitrate)
    if video_bitrate < settings.min_video_bitrate:
        raise DoesNotFit(
            f"A {duration:.1f} s video cannot be made to fit in "
            f"{limit_bytes / (1024 * 1024):.2f} MB."
        )
    width, height = _picture_size(facts, video_bitrate, settings)
    return EncodePlan(
        video_bitrate=video_bitrate,
        bufsize_bits=int(video_bitrate * settings.vbv_seconds),
        audio_bitrate=audio_bitrate,
        width=width,
        height=height,
    )


def _audio_bitrate(facts: MediaFacts, total_rate: float, settings: FitSettings) -> int | None:
    """Keep sound at the set rate, but never let it take more than a fifth of the budget."""
    if not facts.has_audio:
        return None
    return max(32_000, min(settings.audio_bitrate, int(total_rate / 5)))


def _picture_size(facts: MediaFacts, video_bitrate: int, settings: FitSettings) -> tuple[int, int]:
    """The source size, or a smaller one of the same shape when bits per pixel run short."""
    width, height = facts.width, facts.height
    pixels_affordable = video_bitrate / (max(facts.frame_rate, 1.0) * settings.min_bits_per_pixel)
    if width * height <= pixels_affordable:
        return _even(width), _even(height)
    scale = math.sqrt(pixels_affordable / (width * height))
    scale = max(scale, min(1.0, settings.min_short_side / min(width, height)))
    return _even(width * scale), _even(height * scale)


def _even(size: float) -> int:
    """H.264 in 4:2:0 needs even sizes; round down, but never to nothing."""
    return max(2, int(size) // 2 * 2)
