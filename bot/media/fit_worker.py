"""The worker process behind `VideoFitter`: `python -m bot.media.fit_worker`.

Reads a `FitRequest` from stdin, runs `fit_to_limit`, and reports progress and the
outcome on stdout (see `fit_protocol`). Tracebacks of unexpected failures go to stderr,
which the bot's own stderr inherits.
"""

from __future__ import annotations

import os
import resource
import sys
import traceback
from dataclasses import replace
from typing import TextIO

from bot.media.errors import FitFailed, MediaError
from bot.media.fit import fit_to_limit
from bot.media.fit_protocol import FitRequest, done_line, failed_line, progress_line


def main(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    def emit(line: str) -> None:
        stdout.write(line + "\n")
        stdout.flush()

    request = FitRequest.from_json(stdin.read())
    if request.niceness:
        os.nice(request.niceness)
    try:
        result = fit_to_limit(
            request.source,
            request.destination,
            limit_bytes=request.limit_bytes,
            time_limit_seconds=request.time_limit_seconds,
            settings=request.settings,
            progress=lambda progress: emit(progress_line(progress)),
        )
    except MediaError as error:
        emit(failed_line(error))
        return 0
    except Exception:
        traceback.print_exc()
        emit(failed_line(FitFailed("Making the video smaller failed unexpectedly.")))
        return 1
    emit(done_line(replace(result, worker_peak_rss_bytes=peak_rss_bytes())))
    return 0


def peak_rss_bytes() -> int:
    """The most memory this process has held (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    sys.exit(main())
