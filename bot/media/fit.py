"""Re-encode a video so it fits an upload limit: H.264 + AAC in an MP4 that starts playing
before it has fully downloaded (`moov` first).

This is blocking and CPU-heavy; the bot runs it through `VideoFitter`, in another process.
One pass with VBV limits normally fits (see `plan`); the result is measured anyway and,
if too large, encoded once more at a lower bitrate before giving up with `DoesNotFit`.
The work is written beside `destination` and renamed onto it only on success, so a
failed or interrupted fit leaves no partial file behind.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from bot.media.errors import BadMedia, DoesNotFit, FitFailed, FitTimedOut, MediaError
from bot.media.plan import EncodePlan, FitSettings, plan_encode
from bot.media.probe import FITTED_FROM_TAG, MediaFacts, fitted_from_tag, probe

MAX_ATTEMPTS = 2
AAC_SAMPLE_RATES = frozenset(
    {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}
)
_PROGRESS_STEP = 0.02


@dataclass(frozen=True, slots=True)
class FitProgress:
    stage: Literal["started", "encoding"]
    """"started" once, when work begins; then "encoding" as frames go through."""
    attempt: int
    fraction: float
    """Of the current attempt, 0 to 1."""


@dataclass(frozen=True, slots=True)
class FitResult:
    path: Path
    source: MediaFacts
    result: MediaFacts
    """Probed from the written file, so its size is the true one."""
    attempts: int
    video_bitrate: int
    elapsed_seconds: float
    worker_peak_rss_bytes: int | None = None
    """Filled in by `VideoFitter`: the most memory its worker process ever held."""

    @property
    def resized(self) -> bool:
        return (self.result.width, self.result.height) != (self.source.width, self.source.height)


ProgressCallback = Callable[[FitProgress], None]


def partial_path(destination: Path) -> Path:
    """Where a fit writes before the finished file is renamed to `destination`."""
    return destination.with_name(destination.name + ".partial")


def fit_to_limit(
    source: Path,
    destination: Path,
    *,
    limit_bytes: int,
    time_limit_seconds: float,
    settings: FitSettings | None = None,
    progress: ProgressCallback | None = None,
) -> FitResult:
    """Write a version of `source` no larger than `limit_bytes` to `destination`.

    Raises `NotAVideo`/`BadMedia` for a source that cannot be read, `DoesNotFit` when no
    acceptable encode is small enough, `FitTimedOut` past `time_limit_seconds`, and
    `FitFailed` when the result cannot be written.
    """
    settings = settings or FitSettings()
    started = time.monotonic()
    deadline = started + time_limit_seconds
    report = progress or (lambda _: None)
    work = partial_path(destination)
    try:
        facts = probe(source)
        report(FitProgress("started", 1, 0.0))
        scale_bitrate = 1.0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            plan = plan_encode(facts, limit_bytes, settings, scale_bitrate=scale_bitrate)
            _encode(source, work, facts, plan, settings, deadline, attempt, report)
            _check_deadline(deadline)
            written = probe(work)
            if written.size_bytes <= limit_bytes:
                work.replace(destination)
                return FitResult(
                    path=destination,
                    source=facts,
                    result=written,
                    attempts=attempt,
                    video_bitrate=plan.video_bitrate,
                    elapsed_seconds=time.monotonic() - started,
                )
            scale_bitrate *= limit_bytes / written.size_bytes * settings.retry_margin
        raise DoesNotFit(
            f"The video is still over {limit_bytes / (1024 * 1024):.2f} MB "
            f"after {MAX_ATTEMPTS} tries at lower quality."
        )
    finally:
        remove_quietly(work)


def _encode(
    source: Path,
    work: Path,
    facts: MediaFacts,
    plan: EncodePlan,
    settings: FitSettings,
    deadline: float,
    attempt: int,
    report: ProgressCallback,
) -> None:
    try:
        with (
            av.open(str(source), mode="r") as inp,
            av.open(str(work), "w", format="mp4", options={"movflags": "+faststart"}) as out,
        ):
            out.metadata[FITTED_FROM_TAG] = fitted_from_tag(
                facts.fitted_from_bytes or facts.size_bytes
            )
            _transcode(inp, out, facts, plan, settings, deadline, attempt, report)
    except MediaError:
        raise
    except OSError as error:  # PyAV's errno errors are OSErrors too: disk full, say
        raise FitFailed("The smaller video could not be written to disk.") from error
    except av.FFmpegError as error:
        raise BadMedia("The video is damaged: it could not be decoded to the end.") from error


def _transcode(
    inp: InputContainer,
    out: OutputContainer,
    facts: MediaFacts,
    plan: EncodePlan,
    settings: FitSettings,
    deadline: float,
    attempt: int,
    report: ProgressCallback,
) -> None:
    in_video = inp.streams.video[0]
    in_video.thread_type = "AUTO"
    in_audio = inp.streams.audio[0] if plan.audio_bitrate and inp.streams.audio else None
    out_video = _video_stream(out, in_video, plan, settings)
    out_audio = _audio_stream(out, in_audio, plan) if in_audio is not None else None
    reported = 0.0
    wanted = [in_video] if in_audio is None else [in_video, in_audio]
    for packet in inp.demux(wanted):
        _check_deadline(deadline)
        if packet.stream is in_video:
            for frame in packet.decode():
                assert isinstance(frame, VideoFrame)
                out.mux(out_video.encode(_resized(frame, plan)))
                fraction = min(1.0, (frame.time or 0.0) / facts.duration_seconds)
                if fraction - reported >= _PROGRESS_STEP:
                    reported = fraction
                    report(FitProgress("encoding", attempt, fraction))
        elif out_audio is not None:
            for sound in packet.decode():
                assert isinstance(sound, AudioFrame)
                out.mux(out_audio.encode(sound))
    out.mux(out_video.encode(None))
    if out_audio is not None:
        out.mux(out_audio.encode(None))
    report(FitProgress("encoding", attempt, 1.0))


def _video_stream(
    out: OutputContainer, source: VideoStream, plan: EncodePlan, settings: FitSettings
) -> VideoStream:
    rate = source.average_rate or source.guessed_rate or Fraction(24)
    stream = out.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = plan.width, plan.height, "yuv420p"
    stream.bit_rate = plan.video_bitrate
    stream.codec_context.options = {
        "preset": settings.preset,
        "profile": "high",
        "maxrate": str(plan.video_bitrate),
        "bufsize": str(plan.bufsize_bits),
    }
    return stream


def _audio_stream(out: OutputContainer, source: AudioStream, plan: EncodePlan) -> AudioStream:
    rate = source.rate if source.rate in AAC_SAMPLE_RATES else 48_000
    stream = out.add_stream("aac", rate=rate)
    stream.layout = "stereo" if source.channels >= 2 else "mono"
    stream.bit_rate = plan.audio_bitrate or 0
    return stream


def _resized(frame: VideoFrame, plan: EncodePlan) -> VideoFrame:
    if (frame.width, frame.height) == (plan.width, plan.height) and frame.format.name == "yuv420p":
        return frame
    return frame.reformat(
        width=plan.width, height=plan.height, format="yuv420p", interpolation="AREA"
    )


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise FitTimedOut()


def remove_quietly(path: Path) -> None:
    """Delete `path` if it is there."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
