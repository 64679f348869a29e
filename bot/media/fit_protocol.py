"""What `VideoFitter` and its worker process say to each other: one JSON request on the
worker's stdin, then one JSON line per event on its stdout, the last being the outcome."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.media.errors import (
    BadMedia,
    DoesNotFit,
    FitFailed,
    FitTimedOut,
    MediaError,
    NotAVideo,
)
from bot.media.fit import FitProgress, FitResult
from bot.media.plan import FitSettings
from bot.media.probe import MediaFacts

_ERRORS: dict[str, type[MediaError]] = {
    kind.__name__: kind for kind in (NotAVideo, BadMedia, DoesNotFit, FitTimedOut, FitFailed)
}


@dataclass(frozen=True, slots=True)
class FitRequest:
    source: Path
    destination: Path
    limit_bytes: int
    time_limit_seconds: float
    settings: FitSettings
    niceness: int = 0

    def to_json(self) -> str:
        fields = asdict(self)
        fields["source"], fields["destination"] = str(self.source), str(self.destination)
        return json.dumps(fields)

    @classmethod
    def from_json(cls, text: str) -> FitRequest:
        fields = json.loads(text)
        return cls(
            source=Path(fields["source"]),
            destination=Path(fields["destination"]),
            limit_bytes=int(fields["limit_bytes"]),
            time_limit_seconds=float(fields["time_limit_seconds"]),
            settings=FitSettings(**fields["settings"]),
            niceness=int(fields["niceness"]),
        )


def progress_line(progress: FitProgress) -> str:
    return json.dumps({"event": "progress", **asdict(progress)})


def done_line(result: FitResult) -> str:
    fields = asdict(result)
    fields["path"] = str(result.path)
    return json.dumps({"event": "done", **fields})


def failed_line(error: MediaError) -> str:
    kind = type(error).__name__ if type(error).__name__ in _ERRORS else FitFailed.__name__
    return json.dumps({"event": "failed", "kind": kind, "message": str(error)})


def parse_line(line: bytes | str) -> FitProgress | FitResult | MediaError:
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
        if event == "failed":
            return _ERRORS.get(fields["kind"], FitFailed)(fields["message"])
    except (ValueError, KeyError, TypeError):
        pass
    return FitFailed("The re-encoding worker gave an answer that makes no sense.")
