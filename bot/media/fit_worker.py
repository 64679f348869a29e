"""The worker process behind `VideoFitter`: `python -m bot.media.fit_worker`.

Reads one request from stdin (see `fit_protocol`): a fit (`fit_to_limit`) or a probe of a
file only FFmpeg can read (`read_facts`). Before any work it takes on the request's
limits: an address-space limit (`RLIMIT_AS`), so a file that makes FFmpeg allocate
without end fails its allocations here instead of growing until the machine swaps, and
a lower CPU priority. It reports progress and the outcome on stdout, with its peak
memory. Tracebacks of unexpected failures go to stderr, which the bot's own inherits.
"""

from __future__ import annotations

import os
import resource
import sys
import traceback
from dataclasses import replace
from typing import TextIO

from bot.media.deep_probe import read_facts
from bot.media.errors import FitFailed, MediaError
from bot.media.fit import fit_to_limit
from bot.media.fit_protocol import (
    FitRequest,
    WorkerLimits,
    done_line,
    failed_line,
    parse_request,
    probed_line,
    progress_line,
)
from bot.media.limits import BeyondLimits, Breach, MediaLimit


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    def emit(line: str) -> None:
        stdout.write(line + "\n")
        stdout.flush()

    request = parse_request(stdin.read())
    take_on(request.worker)
    try:
        if isinstance(request, FitRequest):
            result = fit_to_limit(
                request.source,
                request.destination,
                limit_bytes=request.limit_bytes,
                time_limit_seconds=request.time_limit_seconds,
                settings=request.settings,
                progress=lambda progress: emit(progress_line(progress)),
                limits=request.worker.media,
            )
            emit(done_line(replace(result, worker_peak_rss_bytes=peak_rss_bytes())))
        else:
            facts = read_facts(request.source, request.worker.media)
            emit(probed_line(facts, peak_rss_bytes()))
    except MediaError as error:
        emit(failed_line(error, peak_rss_bytes()))
    except MemoryError:
        allowed = request.worker.memory_bytes or 0
        emit(failed_line(BeyondLimits(Breach(MediaLimit.MEMORY, None, allowed)), peak_rss_bytes()))
    except Exception:
        traceback.print_exc()
        doing = "Making the video smaller" if isinstance(request, FitRequest) else "Reading it"
        emit(failed_line(FitFailed(f"{doing} failed unexpectedly.")))
        return 1
    return 0


def take_on(limits: WorkerLimits) -> None:
    """Apply `limits` to this process (a limit above the hard one stays at the hard one)."""
    if limits.memory_bytes is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = (
            limits.memory_bytes
            if hard == resource.RLIM_INFINITY
            else min(hard, limits.memory_bytes)
        )
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    if limits.niceness:
        os.nice(limits.niceness)


def peak_rss_bytes() -> int:
    """The most memory this process has held (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    sys.exit(main())
