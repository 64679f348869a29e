"""`python -m bot generate`: one Kling 3.0 video from the command line, without Discord.

For operators: it checks the settings and the inputs exactly as the bot does, runs one
job through the same `RunComfyClient` (submit once, poll, fetch the result), and saves
the video with the same size-capped, https-only downloader. Progress goes to stderr,
the saved path and cost to stdout. Any failure is one line on stderr and exit code 1 (a
video made but not saved names its request id and link, to fetch it by hand; RunComfy out
of reach names its host, the cause and what to check); invalid options, a missing or
invalid setting, a refused token and an --out that cannot be written are refused before
anything is paid, with exit code 2, as the bot exits for the same causes (`bot.exits`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import aiohttp

from bot.clock import Clock, system_clock
from bot.config import ConfigError, Settings, load_settings
from bot.exits import Exit
from bot.formatting import stopwatch, usd
from bot.jobs.model import Failure, JobState
from bot.jobs.runcomfy_side import Cancelled, Refused, RunComfySide, Seen
from bot.media.download import OutputFetcher, OutputFetchError
from bot.media.safe_session import make_session
from bot.network import Cause, host_of, unreachable
from bot.runcomfy.errors import ErrorKind, RunComfyError, TransportError
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import KlingRequest
from bot.wording import failure_text, runcomfy_problem

EXIT_OK = Exit.OK
EXIT_FAILED = Exit.FAILED
EXIT_USAGE = Exit.SETTINGS
EXIT_INTERRUPTED = Exit.INTERRUPTED
DEFAULT_OUT = "clip.mp4"
CANCEL_GRACE_SECONDS = 15.0
"""How long (clock seconds) a Ctrl-C'd run may spend asking RunComfy to cancel."""
TOKEN_REFUSED = (
    "RunComfy at {host} refused the API token in RUNCOMFY_API_TOKEN (wrong, expired or the "
    "account is inactive). Nothing was generated or charged."
)
PROGRESS_EVERY_SECONDS = 30.0
"""Repeat an unchanged progress line this often (clock seconds), so logs show it is alive."""


class JobFailed(Exception):
    """The job ended without a video; `str()` is the one line shown to the operator."""

    def __init__(self, line: str, code: Exit = Exit.FAILED) -> None:
        super().__init__(line)
        self.code = code


def out_problem(out: Path) -> str | None:
    """Why the video could not be saved at `out`, found before anything is paid; None when
    it can. Writability is tried with a real file, since permission bits lie to root."""
    if out.is_dir():
        return f"--out {out} is a folder; give a file name, e.g. {out / DEFAULT_OUT}"
    folder = out.parent
    if not folder.exists():
        return f"the folder {folder} for --out does not exist"
    if not folder.is_dir():
        return f"{folder} in --out is not a folder"
    try:
        handle, probe = tempfile.mkstemp(prefix=".kling-out-check-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        return f"cannot write in the folder {folder} for --out ({error.strerror or error})"
    return None


def _int_or_text(text: str) -> int | str:
    """Whole numbers become ints; anything else is passed on for KlingRequest to refuse."""
    try:
        return int(text)
    except ValueError:
        return text


def _number_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 300 seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot generate",
        description=(
            "Generate one Kling 3.0 video through RunComfy and save it. Settings come from "
            "the environment or .env (RUNCOMFY_API_TOKEN is required; RUNCOMFY_API_BASE, "
            "timeouts, JOB_DEADLINE_MINUTES, MAX_DOWNLOAD_MB and POLL_INTERVAL_SECONDS are "
            "honoured). Options left out use RunComfy's defaults."
        ),
        epilog=(
            "Exit codes: 0 saved, 1 failed (one line on stderr), 2 invalid options, "
            "130 interrupted (a queued job is cancelled first)."
        ),
    )
    parser.add_argument("prompt", help="what the video shows: scene, motion, camera, mood")
    parser.add_argument("--negative-prompt", help="what to keep out of the video")
    parser.add_argument(
        "--duration", type=_int_or_text, metavar="SECONDS", help="3 to 15 seconds (default 5)"
    )
    parser.add_argument("--aspect-ratio", metavar="RATIO", help="16:9, 9:16 or 1:1 (default 16:9)")
    parser.add_argument(
        "--cfg-scale",
        type=_number_or_text,
        metavar="0..1",
        help="how strictly to follow the prompt (default 0.5)",
    )
    parser.add_argument(
        "--sound",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="generate synchronized audio (RunComfy's default: on; costs more)",
    )
    parser.add_argument("--shot-type", metavar="TYPE", help="intelligent (default) or customize")
    parser.add_argument(
        "--shot",
        nargs=2,
        action="append",
        metavar=("SECONDS", "PROMPT"),
        help="a multi-shot segment; repeat it, the seconds must add up to --duration",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(DEFAULT_OUT),
        help=f"where to save the video (default {DEFAULT_OUT}; replaced if it exists)",
    )
    parser.add_argument(
        "--poll-interval",
        type=_positive_seconds,
        metavar="SECONDS",
        help="seconds between status checks (default POLL_INTERVAL_SECONDS, 5)",
    )
    return parser


def request_from_options(options: argparse.Namespace) -> KlingRequest:
    """The validated request; raises KlingInputError with the message users see.

    Only options given on the command line are set, so RunComfy's defaults apply to the rest.
    """
    shots = None
    if options.shot:
        shots = [
            {"prompt": prompt, "duration": _int_or_text(seconds)}
            for seconds, prompt in options.shot
        ]
    return KlingRequest.parse(
        prompt=options.prompt,
        negative_prompt=options.negative_prompt,
        duration=options.duration,
        aspect_ratio=options.aspect_ratio,
        cfg_scale=options.cfg_scale,
        sound=options.sound,
        shot_type=options.shot_type,
        multi_prompt=shots,
    )


def _say(stream: TextIO, line: str) -> None:
    print(" ".join(line.split()), file=stream, flush=True)


async def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The whole command, as a coroutine; tests inject `env`, a fast `clock` and streams."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        options = build_parser().parse_args(list(argv))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        request = request_from_options(options)
    except KlingInputError as error:
        _say(stderr, f"error: {error}")
        return EXIT_USAGE
    problem = out_problem(options.out)
    if problem is not None:
        _say(stderr, f"error: {problem}. Nothing was sent or charged.")
        return EXIT_USAGE
    try:
        settings = load_settings(env, need_discord=False)
    except ConfigError as error:
        _say(stderr, f"error: {error}")
        return EXIT_USAGE
    generator = _Generator(
        settings,
        clock or system_clock(),
        stdout=stdout,
        stderr=stderr,
        poll_interval=options.poll_interval or settings.jobs.poll_interval_seconds,
    )
    return await generator.generate(request, options.out)


class _Generator:
    """One job from submit to saved file, reporting on the way."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        stdout: TextIO,
        stderr: TextIO,
        poll_interval: float,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._stdout = stdout
        self._stderr = stderr
        self._poll_interval = poll_interval
        self._request_id: str | None = None
        self._state = "sending"
        self._last_progress = ""
        self._last_progress_at = 0.0
        self._host = host_of(settings.runcomfy.api_base)

    async def generate(self, request: KlingRequest, out: Path) -> int:
        estimate = self._settings.runcomfy.pricing.estimate(request)
        try:
            async with make_session(trusted_origins=[self._settings.runcomfy.api_base]) as session:
                side = RunComfySide(self._settings.runcomfy.client(session, self._clock))
                try:
                    return await self._run(session, side, request, out, estimate)
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None:
                        current.uncancel()
                    await self._interrupted(side)
                    return EXIT_INTERRUPTED
        except RunComfyError as error:
            failed = self._failed(error)
        except JobFailed as error:
            failed = error
        _say(self._stderr, f"error: {failed}")
        return failed.code

    async def _run(
        self,
        session: aiohttp.ClientSession,
        side: RunComfySide,
        request: KlingRequest,
        out: Path,
        estimate: Decimal,
    ) -> int:
        verdict = await side.submit(request)
        if isinstance(verdict, Refused):
            problem = verdict.problem
            if isinstance(problem, TransportError) and problem.cause is not Cause.OTHER:
                raise self._failed(problem)
            raise self._refused(verdict)
        request_id = self._request_id = verdict.request_id
        self._state = "queued"
        _say(
            self._stderr,
            f"RunComfy accepted the job (request id {request_id}, estimated {usd(estimate)}).",
        )
        url, reported_cost = await self._wait_until_finished(side, request_id)
        self._state = "downloading"
        fetcher = OutputFetcher(
            session,
            trusted_origin=self._settings.runcomfy.api_base,
            connect_timeout=self._settings.runcomfy.connect_timeout,
            read_timeout=max(60.0, self._settings.runcomfy.read_timeout),
        )
        try:
            size = await fetcher.fetch(url, out, max_bytes=self._settings.jobs.max_download_bytes)
        except (OutputFetchError, OSError, aiohttp.ClientError) as error:
            raise JobFailed(_not_saved(out, error, request_id, url)) from error
        cost = usd(reported_cost) if reported_cost is not None else f"{usd(estimate)} (estimated)"
        print(f"Saved {out} ({size:,} bytes). Cost: {cost}", file=self._stdout, flush=True)
        return EXIT_OK

    async def _wait_until_finished(
        self, side: RunComfySide, request_id: str
    ) -> tuple[str, Decimal | None]:
        """Poll as the bot does (the same reading of RunComfy's answers) until the video
        is ready; returns its link and the cost RunComfy reported."""
        started = self._clock.monotonic()
        deadline = self._settings.jobs.deadline_seconds
        state = JobState.QUEUED
        while True:
            verdict = await side.poll(request_id, state)
            elapsed = self._clock.monotonic() - started
            if verdict.seen is Seen.FINISHED and verdict.output_url is not None:
                self._state = "finished"
                _say(self._stderr, f"Finished after {stopwatch(elapsed)}. Downloading...")
                return verdict.output_url, verdict.cost
            if verdict.failure is not None:
                raise JobFailed(failure_text(verdict.failure, verdict.detail))
            if verdict.problem is not None:
                raise verdict.problem
            if verdict.seen is Seen.RUNNING:
                state = JobState.RUNNING
            self._report(verdict.seen, verdict.raw_status, verdict.queue_position, elapsed)
            if elapsed + self._poll_interval > deadline:
                raise JobFailed(
                    f"The job did not finish within {stopwatch(deadline)} (JOB_DEADLINE_MINUTES); "
                    f"gave up waiting. Request id: {request_id}"
                )
            await self._clock.sleep(self._poll_interval)

    def _recovery(self) -> str:
        """Once RunComfy accepted the job, the id the operator needs to find it again."""
        return f" Request id: {self._request_id}" if self._request_id is not None else ""

    def _failed(self, error: RunComfyError) -> JobFailed:
        """RunComfy's problem for an operator: a refused token names the setting to fix,
        an unreachable RunComfy its host, the cause and what to check."""
        if error.kind is ErrorKind.AUTHENTICATION:
            return JobFailed(TOKEN_REFUSED.format(host=self._host), Exit.SETTINGS)
        if isinstance(error, TransportError) and error.cause is not Cause.OTHER:
            line = unreachable("RunComfy", self._host, error.cause, setting="RUNCOMFY_API_BASE")
            sent = self._request_id is not None or error.request_sent
            nothing = "" if sent else " Nothing was sent to RunComfy or charged."
            return JobFailed(f"{line}{nothing}{self._recovery()}")
        return JobFailed(f"{runcomfy_problem(error.kind)}{self._recovery()}")

    def _refused(self, verdict: Refused) -> JobFailed:
        if verdict.failure is Failure.TOKEN_REFUSED:
            return JobFailed(TOKEN_REFUSED.format(host=self._host), Exit.SETTINGS)
        text = failure_text(verdict.failure, verdict.detail)
        cause = getattr(verdict.problem, "cause", Cause.OTHER)
        if cause is not Cause.OTHER:
            text = f"{text} (RunComfy at {self._host}: {cause.value}.)"
        return JobFailed(text)

    def _report(self, seen: Seen, raw: str | None, position: int | None, elapsed: float) -> None:
        if seen is Seen.IN_QUEUE:
            self._state = "queued"
            where = f" (queue position {position})" if position is not None else ""
            line = f"Queued at RunComfy{where}"
        elif seen is Seen.RUNNING:
            self._state = "generating"
            line = "Generating"
        else:
            line = f"Waiting (RunComfy says {raw or 'nothing'!s})"
        if (
            line != self._last_progress
            or elapsed - self._last_progress_at >= PROGRESS_EVERY_SECONDS
        ):
            _say(self._stderr, f"{line} · {stopwatch(elapsed)} elapsed")
            self._last_progress = line
            self._last_progress_at = elapsed

    async def _interrupted(self, side: RunComfySide) -> None:
        """Ctrl-C: cancel a queued job (it costs nothing yet) and say what happened."""
        request_id = self._request_id
        if request_id is None:
            _say(
                self._stderr,
                "Interrupted while sending the job; RunComfy may have accepted it. "
                "Check the RunComfy dashboard before trying again.",
            )
            return
        if self._state in ("finished", "downloading"):
            _say(self._stderr, f"Interrupted; the video was not saved. Request id: {request_id}")
            return
        if self._state == "generating":
            _say(
                self._stderr,
                "Interrupted. The job is already generating, so it cannot be cancelled and "
                f"will be charged. Request id: {request_id}",
            )
            return
        _say(self._stderr, "Interrupted; cancelling the queued job at RunComfy...")
        try:
            async with asyncio.timeout(self._clock.to_real(CANCEL_GRACE_SECONDS)):
                verdict = await side.cancel(request_id)
        except TimeoutError:
            _say(self._stderr, f"Could not cancel job {request_id}: no answer")
            return
        if verdict.outcome is Cancelled.UNREACHABLE:
            reason = runcomfy_problem(verdict.problem)
            _say(self._stderr, f"Could not cancel job {request_id}: {reason}")
        elif verdict.outcome is Cancelled.CANCELLED:
            _say(self._stderr, f"Cancelled job {request_id}; nothing is charged.")
        elif verdict.outcome in (Cancelled.STARTED, Cancelled.FINISHED):
            _say(
                self._stderr,
                f"Job {request_id} had already started, so it cannot be cancelled and will "
                "be charged.",
            )
        else:
            _say(self._stderr, f"RunComfy gave no clear answer to cancelling job {request_id}.")


def _not_saved(out: Path, error: BaseException, request_id: str, url: str) -> str:
    """The video exists (and is paid for) but is not on disk: say how to get it back."""
    reason = str(error) if isinstance(error, OutputFetchError) else _os_reason(error)
    return (
        f"The video was made but could not be saved to {out}: {reason} "
        f"Request id: {request_id} · video link: {url}"
    )


def _os_reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}."
    return f"{type(error).__name__}."


def main(argv: Sequence[str]) -> int:
    """Entry point for `python -m bot generate ...` (argv is what follows `generate`).

    `bot.__main__` has already read `.env` into the environment."""
    try:
        return asyncio.run(run(argv))
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
