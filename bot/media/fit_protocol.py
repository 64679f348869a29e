"""What `VideoFitter` and its worker process say to each other: one JSON request on the
worker's stdin (a fit or a probe), then one JSON line per event on its stdout, the last
being the outcome. Nothing here loads FFmpeg, so the bot process can import it."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from bot.media.errors import (
    BadMedia,
    DoesNotFit,
    FitFailed,
    FitTimedOut,
    MediaError,
    NotAVideo,
)
from bot.media.limits import BeyondLimits, Breach, MediaLimit, MediaLimits
from bot.media.plan import FitSettings
from bot.media.probe import DEFAULT_LIMITS, MediaFacts

_ERRORS: dict[str, type[MediaError]] = {
    kind.__name__: kind for kind in (NotAVideo, BadMedia, DoesNotFit, FitTimedOut, FitFailed)
}


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
    """Filled in by the worker: the most memory its process ever held."""

    @property
    def resized(self) -> bool:
        return (self.result.width, self.result.height) != (self.source.width, self.source.height)


ProgressCallback = Callable[[FitProgress], None]


def partial_path(destination: Path) -> Path:
    """Where a fit writes before the finished file is renamed to `destination`."""
    return destination.with_name(destination.name + ".partial")


def remove_quietly(path: Path) -> None:
    """Delete `path` if it is there."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """What one worker may use: `memory_bytes` of address space (None: no limit) at a
    lowered CPU priority, and the media it will read."""

    memory_bytes: int | None = None
    niceness: int = 0
    media: MediaLimits = DEFAULT_LIMITS


@dataclass(frozen=True, slots=True)
class FitRequest:
    source: Path
    destination: Path
    limit_bytes: int
    time_limit_seconds: float
    settings: FitSettings
    worker: WorkerLimits = WorkerLimits()

    def to_json(self) -> str:
        fields = asdict(self)
        fields["source"], fields["destination"] = str(self.source), str(self.destination)
        return json.dumps({"kind": "fit", **fields})


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """Read a file's facts with FFmpeg (for a file the bot's own reader cannot read)."""

    source: Path
    worker: WorkerLimits = WorkerLimits()

    def to_json(self) -> str:
        return json.dumps(
            {"kind": "probe", "source": str(self.source), "worker": asdict(self.worker)}
        )


def parse_request(text: str) -> FitRequest | ProbeRequest:
    fields = json.loads(text)
    if fields["kind"] not in ("fit", "probe"):
        raise ValueError(f"no such request: {fields['kind']!r}")
    worker = fields["worker"]
    limits = WorkerLimits(
        memory_bytes=worker["memory_bytes"],
        niceness=int(worker["niceness"]),
        media=MediaLimits(**worker["media"]),
    )
    if fields["kind"] == "probe":
        return ProbeRequest(source=Path(fields["source"]), worker=limits)
    return FitRequest(
        source=Path(fields["source"]),
        destination=Path(fields["destination"]),
        limit_bytes=int(fields["limit_bytes"]),
        time_limit_seconds=float(fields["time_limit_seconds"]),
        settings=FitSettings(**fields["settings"]),
        worker=limits,
    )


def progress_line(progress: FitProgress) -> str:
    return json.dumps({"event": "progress", **asdict(progress)})


def done_line(result: FitResult) -> str:
    fields = asdict(result)
    fields["path"] = str(result.path)
    return json.dumps({"event": "done", **fields})


def probed_line(facts: MediaFacts, peak_rss_bytes: int) -> str:
    return json.dumps({"event": "probed", "facts": asdict(facts), "peak_rss_bytes": peak_rss_bytes})


def failed_line(error: MediaError, peak_rss_bytes: int | None = None) -> str:
    """The refusal's kind and words, and for `BeyondLimits` the limit it broke."""
    fields: dict[str, Any] = {"event": "failed", "message": str(error)}
    if isinstance(error, BeyondLimits):
        fields["kind"] = BeyondLimits.__name__
        fields["breach"] = {**asdict(error.breach), "limit": error.breach.limit.value}
    else:
        known = type(error).__name__ in _ERRORS
        fields["kind"] = type(error).__name__ if known else FitFailed.__name__
    return json.dumps({**fields, "peak_rss_bytes": peak_rss_bytes})


def parse_line(line: bytes | str) -> FitProgress | FitResult | MediaFacts | MediaError:
    """One event from the worker; a line that makes no sense becomes `FitFailed`."""
    try:
        fields: dict[str, Any] = json.loads(line)
        event = fields.pop("event")
        if event == "progress":
            return FitProgress(**fields)
        if event == "done":
            return FitResult(
                path=Path(fields["path"]),
                source=MediaFacts(**fields["source"]),
                result=MediaFacts(**fields["result"]),
                attempts=fields["attempts"],
                video_bitrate=fields["video_bitrate"],
                elapsed_seconds=fields["elapsed_seconds"],
                worker_peak_rss_bytes=fields["worker_peak_rss_bytes"],
            )
        if event == "probed":
            return MediaFacts(**fields["facts"])
        if event == "failed":
            return _refusal(fields)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return FitFailed("The re-encoding worker gave an answer that makes no sense.")


def _refusal(fields: dict[str, Any]) -> MediaError:
    if fields["kind"] == BeyondLimits.__name__:
        breach = fields["breach"]
        found = breach["found"]
        return BeyondLimits(
            Breach(
                MediaLimit(breach["limit"]),
                None if found is None else int(found),
                int(breach["allowed"]),
            ),
            str(fields["message"]),
        )
    return _ERRORS.get(fields["kind"], FitFailed)(fields["message"])
