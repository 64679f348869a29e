from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import av
import pytest

from bot.media.errors import FitFailed, FitTimedOut, NotAVideo
from bot.media.fit_protocol import FitProgress
from bot.media.fitter import VideoFitter
from bot.media.probe import probe
from testkit.waiting import eventually

LIMIT = 300_000
STUCK = (sys.executable, str(Path(__file__).with_name("stuck_fit_worker.py")))


def written_pid(destination: Path) -> int | None:
    """The pid the stuck worker for `destination` wrote, if it has started."""
    pid_file = Path(f"{destination}.pid")
    text = pid_file.read_text() if pid_file.exists() else ""
    return int(text) if text else None


async def pid_of(destination: Path) -> int:
    await eventually(lambda: written_pid(destination) is not None, what=f"{destination.name}")
    pid = written_pid(destination)
    assert pid is not None
    return pid


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_fit_runs_in_a_worker_and_reports_progress(
    noisy_with_sound: Path, tmp_path: Path
) -> None:
    seen: list[FitProgress] = []

    def show(progress: FitProgress) -> None:
        seen.append(progress)
        if len(seen) == 2:
            raise RuntimeError("a broken status message must not stop the fit")

    result = await VideoFitter().fit(
        noisy_with_sound,
        tmp_path / "out.mp4",
        limit_bytes=LIMIT,
        time_limit_seconds=60,
        on_progress=show,
    )

    assert probe(tmp_path / "out.mp4") == result.result
    assert result.result.size_bytes <= LIMIT
    assert result.result.has_audio
    assert result.worker_peak_rss_bytes is not None
    assert result.worker_peak_rss_bytes > 10 * 1024 * 1024
    assert seen[0] == FitProgress("started", 1, 0.0)
    assert seen[-1] == FitProgress("encoding", 1, 1.0)
    assert names_in(tmp_path) == ["out.mp4"]


async def test_the_workers_refusal_reaches_the_caller_as_is(tmp_path: Path) -> None:
    text = tmp_path / "text.mp4"
    text.write_text("hello\n" * 100)

    with pytest.raises(NotAVideo, match=r"text\.mp4 is not a video"):
        await VideoFitter().fit(
            text, tmp_path / "out.mp4", limit_bytes=LIMIT, time_limit_seconds=60
        )


async def test_a_worker_over_its_time_is_killed_and_its_files_removed(tmp_path: Path) -> None:
    destination = tmp_path / "out.mp4"
    fitter = VideoFitter(command=STUCK, kill_grace_seconds=0.1)
    started = time.monotonic()

    with pytest.raises(FitTimedOut, match="took too long"):
        await fitter.fit(
            tmp_path / "source.mp4", destination, limit_bytes=LIMIT, time_limit_seconds=0.5
        )

    assert time.monotonic() - started < 5
    assert is_gone(await pid_of(destination))
    assert names_in(tmp_path) == ["out.mp4.pid"]


async def test_cancelling_a_fit_kills_its_worker_and_removes_its_files(tmp_path: Path) -> None:
    destination = tmp_path / "out.mp4"
    seen: list[FitProgress] = []
    fit = asyncio.create_task(
        VideoFitter(command=STUCK).fit(
            tmp_path / "source.mp4",
            destination,
            limit_bytes=LIMIT,
            time_limit_seconds=60,
            on_progress=seen.append,
        )
    )
    pid = await pid_of(destination)
    await eventually(lambda: bool(seen), what="the started event")

    fit.cancel()
    with pytest.raises(asyncio.CancelledError):
        await fit

    assert is_gone(pid)
    assert seen == [FitProgress("started", 1, 0.0)]
    assert names_in(tmp_path) == ["out.mp4.pid"]


async def test_no_more_workers_run_than_allowed(tmp_path: Path) -> None:
    fitter = VideoFitter(command=STUCK, max_parallel=1)
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    fits = [
        asyncio.create_task(
            fitter.fit(tmp_path / "s.mp4", out, limit_bytes=LIMIT, time_limit_seconds=60)
        )
        for out in (first, second)
    ]
    await pid_of(first)
    await asyncio.sleep(0.3)

    assert written_pid(second) is None
    fits[0].cancel()
    await pid_of(second)
    fits[1].cancel()
    await asyncio.gather(*fits, return_exceptions=True)


async def test_a_worker_that_dies_without_an_answer_is_a_failed_fit(tmp_path: Path) -> None:
    fitter = VideoFitter(command=(sys.executable, "-c", "import sys; sys.exit(3)"))

    with pytest.raises(FitFailed, match="exit code 3"):
        await fitter.fit(
            tmp_path / "s.mp4", tmp_path / "out.mp4", limit_bytes=LIMIT, time_limit_seconds=60
        )


async def test_a_worker_that_cannot_start_is_a_failed_fit(tmp_path: Path) -> None:
    fitter = VideoFitter(command=(str(tmp_path / "no-such-python"),))

    with pytest.raises(FitFailed, match="could not be started"):
        await fitter.fit(
            tmp_path / "s.mp4", tmp_path / "out.mp4", limit_bytes=LIMIT, time_limit_seconds=60
        )


def test_at_least_one_worker_must_be_allowed() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        VideoFitter(max_parallel=0)


async def test_a_worker_reads_what_is_not_an_mp4(noisy_with_sound: Path, tmp_path: Path) -> None:
    video = tmp_path / "video.mkv"
    with av.open(str(noisy_with_sound)) as source, av.open(str(video), "w", "matroska") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)

    facts = await VideoFitter().probe(video)

    assert (facts.width, facts.height, facts.has_audio) == (320, 240, False)


async def test_a_probe_over_its_time_is_killed(tmp_path: Path) -> None:
    sleeper = (sys.executable, "-c", "import time; time.sleep(60)")
    fitter = VideoFitter(command=sleeper, probe_time_limit_seconds=0.3, kill_grace_seconds=0.1)
    started = time.monotonic()

    with pytest.raises(FitTimedOut):
        await fitter.probe(tmp_path / "video.mkv")

    assert time.monotonic() - started < 5
