from __future__ import annotations

from pathlib import Path

import pytest

from bot.media.errors import DoesNotFit, FitFailed, MediaError
from bot.media.fit_protocol import (
    FitProgress,
    FitRequest,
    FitResult,
    ProbeRequest,
    WorkerLimits,
    done_line,
    failed_line,
    parse_line,
    parse_request,
    probed_line,
    progress_line,
)
from bot.media.limits import BeyondLimits, Breach, MediaLimit, MediaLimits
from bot.media.plan import FitSettings
from bot.media.probe import MediaFacts

FACTS = MediaFacts(
    duration_seconds=15.0,
    width=1920,
    height=1080,
    frame_rate=24.0,
    video_codec="h264",
    has_audio=True,
    size_bytes=20_000_000,
    bitrate=10_666_667,
)


WORKER = WorkerLimits(memory_bytes=512 * 1024 * 1024, niceness=5, media=MediaLimits(max_frames=9))


def test_a_request_survives_the_trip() -> None:
    request = FitRequest(
        source=Path("/in/a.mp4"),
        destination=Path("/out/a.mp4"),
        limit_bytes=10 * 1024 * 1024,
        time_limit_seconds=120.0,
        settings=FitSettings(preset="faster"),
        worker=WORKER,
    )

    assert parse_request(request.to_json()) == request


def test_a_probe_request_survives_the_trip() -> None:
    request = ProbeRequest(source=Path("/in/a.mkv"), worker=WORKER)

    assert parse_request(request.to_json()) == request
    assert parse_request(ProbeRequest(Path("/in/b.mkv")).to_json()).worker == WorkerLimits()


def test_an_unknown_request_is_refused() -> None:
    with pytest.raises(ValueError, match="no such request"):
        parse_request('{"kind": "play", "worker": {}}')


def test_events_survive_the_trip() -> None:
    progress = FitProgress("encoding", 2, 0.5)
    result = FitResult(
        path=Path("/out/a.mp4"),
        source=FACTS,
        result=FACTS,
        attempts=1,
        video_bitrate=5_000_000,
        elapsed_seconds=9.5,
        worker_peak_rss_bytes=123_456_789,
    )

    assert parse_line(progress_line(progress)) == progress
    assert parse_line(done_line(result)) == result
    assert parse_line(probed_line(FACTS, 50_000_000)) == FACTS


@pytest.mark.parametrize(
    "breach",
    [
        Breach(MediaLimit.FRAMES, 3_000_000, 36_000),
        Breach(MediaLimit.MEMORY, None, 1024 * 1024 * 1024),
    ],
)
def test_a_limit_broken_in_the_worker_keeps_its_numbers(breach: Breach) -> None:
    error = parse_line(failed_line(BeyondLimits(breach, "Too many."), 700_000_000))

    assert isinstance(error, BeyondLimits)
    assert error.breach == breach
    assert str(error) == "Too many."


def test_a_refusal_keeps_its_kind_and_words() -> None:
    error = parse_line(failed_line(DoesNotFit("Too big, even at the lowest quality.")))

    assert isinstance(error, DoesNotFit)
    assert str(error) == "Too big, even at the lowest quality."


def test_an_unknown_kind_of_refusal_is_a_failed_fit() -> None:
    class Odd(MediaError):
        pass

    assert isinstance(parse_line(failed_line(Odd("odd"))), FitFailed)


@pytest.mark.parametrize(
    "line", [b"", b"not json", b'{"event": "progress"}', b'{"event": "what"}', b"[1, 2]"]
)
def test_nonsense_from_the_worker_is_a_failed_fit(line: bytes) -> None:
    assert isinstance(parse_line(line), FitFailed)
