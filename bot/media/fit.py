"""Re-encode a video so it fits an upload limit: H.264 + AAC in an MP4 that starts playing
before it has fully downloaded (`moov` first).

This is blocking and CPU-heavy; the bot runs it through `VideoFitter`, in another process.
One pass with VBV limits normally fits (see `plan`); the result is measured anyway and,
if too large, encoded once more at a lower bitrate before giving up with `DoesNotFit`.
The work is written beside `destination` and renamed onto it only on success, so a
failed or interrupted fit leaves no partial file behind.
"""

from __future__ import annotations

import os
import time
from fractions import Fraction
from pathlib import Path

import av
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from bot.media.deep_probe import read_facts
from bot.media.errors import BadMedia, DoesNotFit, FitFailed, FitTimedOut, MediaError
from bot.media.fit_protocol import (
    FitProgress,
    FitResult,
    ProgressCallback,
    partial_path,
    remove_quietly,
)
from bot.media.limits import MediaLimits
from bot.media.plan import EncodePlan, FitSettings, plan_encode
from bot.media.probe import DEFAULT_LIMITS, FITTED_FROM_TAG, MediaFacts, fitted_from_tag

MAX_ATTEMPTS = 2
AAC_SAMPLE_RATES = frozenset(
    {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000}
)
_PROGRESS_STEP = 0.02


def fit_to_limit(
    source: Path,
    destination: Path,
    *,
    limit_bytes: int,
    time_limit_seconds: float,
    settings: FitSettings | None = None,
    progress: ProgressCallback | None = None,
    limits: MediaLimits = DEFAULT_LIMITS,
) -> FitResult:
    """Write a version of `source` no larger than `limit_bytes` to `destination`.

    Raises `NotAVideo`/`BadMedia` for a source that cannot be read, `BeyondLimits` for
    one past `limits` (checked before anything is decoded), `DoesNotFit` when no
    acceptable encode is small enough, `FitTimedOut` past `time_limit_seconds`, and
    `FitFailed` when the result cannot be written. Running out of memory is left to
    raise `MemoryError`, for the worker to report.
    """
    settings = settings or FitSettings()
    started = time.monotonic()
    deadline = started + time_limit_seconds
    report = progress or (lambda _: None)
    work = partial_path(destination)
    try:
        facts = read_facts(source, limits)
        report(FitProgress("started", 1, 0.0))
        scale_bitrate = 1.0
        for attempt in range(1, MAX_ATTEMPTS + 1):
            plan = plan_encode(facts, limit_bytes, settings, scale_bitrate=scale_bitrate)
            _encode(source, work, facts, plan, settings, deadline, attempt, report)
            _check_deadline(deadline)
            written = read_facts(work, limits)
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
    except (MediaError, MemoryError):
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
    in_video.codec_context.thread_count = min(_cores() + 1, settings.max_threads)
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
        "threads": str(min(_cores() * 3 // 2 or 1, settings.max_threads)),
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


def _cores() -> int:
    return os.cpu_count() or 1
