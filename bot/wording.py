"""What people read about jobs, in one place: the sentences for what the jobs and RunComfy
layers only name (failures, RunComfy's problems, refused limits, usage).

The Discord side and the command line both word these through here, so each message is
written once, ready for a second language.
"""

from __future__ import annotations

from bot.formatting import usd
from bot.jobs.line import TOKEN_REFUSED, LimitExceeded, NotTakingJobs, TooManyJobs
from bot.jobs.model import Failure
from bot.jobs.usage import DailyBudgetExceeded, DailySecondsExceeded, Usage
from bot.redaction import redact
from bot.runcomfy.errors import ErrorKind

NOTHING_CHARGED = "Nothing was sent to RunComfy or charged."
NOTHING_CHARGED_IF_WAITING = "Videos that had not started were cancelled, free of charge."
DETAIL_MAX_CHARS = 500
"""RunComfy's own words are quoted up to this length, so every message they go into fits."""

RUNCOMFY_PROBLEMS: dict[ErrorKind, str] = {
    ErrorKind.OTHER: "RunComfy could not process the request.",
    ErrorKind.AUTHENTICATION: (
        "RunComfy refused the bot's API token, so nothing was generated or charged. "
        "A server admin needs to check the bot's RUNCOMFY_API_TOKEN."
    ),
    ErrorKind.INSUFFICIENT_BALANCE: (
        "The RunComfy account behind this bot is out of credit, so the video was not "
        "started and nothing was charged. Ask a server admin to top it up."
    ),
    ErrorKind.INVALID_INPUT: "RunComfy refused the video settings.",
    ErrorKind.NOT_FOUND: (
        "RunComfy no longer knows this job (its request id is unknown or has expired)."
    ),
    ErrorKind.RATE_LIMITED: "RunComfy is busy right now and asked the bot to slow down.",
    ErrorKind.SERVER: "RunComfy had a server error.",
    ErrorKind.TRANSPORT: "The bot could not get an answer from RunComfy.",
    ErrorKind.SUBMIT_OUTCOME_UNKNOWN: (
        "The connection to RunComfy broke while the job was being sent, so the bot cannot "
        "tell whether RunComfy accepted it. It was not sent again, to avoid paying twice. "
        "Check the RunComfy dashboard before trying again."
    ),
    ErrorKind.INVALID_REQUEST_ID: "The job's RunComfy request id is not valid.",
}


def runcomfy_problem(kind: ErrorKind | str | None) -> str:
    """RunComfy's problem in plain words (an unknown or missing kind reads as "other")."""
    try:
        return RUNCOMFY_PROBLEMS[ErrorKind(kind or ErrorKind.OTHER)]
    except ValueError:
        return RUNCOMFY_PROBLEMS[ErrorKind.OTHER]


def outside_words(text: str | None, limit: int = DETAIL_MAX_CHARS) -> str | None:
    """Text from RunComfy or Discord as it may be shown: credentials redacted, on one line,
    at most `limit` characters (cut marked with …)."""
    if not text:
        return text
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def failure_text(failure: Failure, detail: str | None) -> str:
    """Why a job has no video, as the requester reads it; RunComfy's words are redacted
    and shortened."""
    detail = outside_words(detail)
    match failure:
        case Failure.RESTARTED_BEFORE_QUEUED:
            return f"The bot restarted before this job was queued. {NOTHING_CHARGED}"
        case Failure.RESTARTED_WHILE_SUBMITTING:
            return (
                "The bot restarted while sending this job to RunComfy, so it cannot tell "
                "whether RunComfy received it. It was not sent again, to avoid paying twice."
            )
        case Failure.SUBMIT_OUTCOME_UNKNOWN:
            return runcomfy_problem(ErrorKind.SUBMIT_OUTCOME_UNKNOWN)
        case Failure.TOKEN_REFUSED:
            return runcomfy_problem(ErrorKind.AUTHENTICATION)
        case Failure.OUT_OF_CREDIT:
            return runcomfy_problem(ErrorKind.INSUFFICIENT_BALANCE)
        case Failure.INPUT_REFUSED:
            reason = detail or "the inputs were refused"
            return f"RunComfy refused the video settings ({reason})."
        case Failure.RUNCOMFY_BUSY:
            return f"{runcomfy_problem(ErrorKind.RATE_LIMITED)} {NOTHING_CHARGED}"
        case Failure.RUNCOMFY_DOWN:
            return f"{runcomfy_problem(detail)} {NOTHING_CHARGED}"
        case Failure.RUNCOMFY_ERROR:
            return runcomfy_problem(detail)
        case Failure.RETRYING:
            return f"{runcomfy_problem(detail)} Trying again shortly."
        case Failure.GENERATION_FAILED:
            text = "RunComfy could not generate this video"
            return f"{text}: {detail}" if detail else f"{text}."
        case Failure.CANCELLED_AT_RUNCOMFY:
            return "The job was cancelled at RunComfy."
        case Failure.NO_VIDEO:
            return "RunComfy finished the job but sent no video."
        case Failure.UNKNOWN_TO_RUNCOMFY:
            return runcomfy_problem(ErrorKind.NOT_FOUND)
        case Failure.DEADLINE_PASSED:
            return (
                f"RunComfy has not finished this video after {detail} minutes. The bot keeps "
                "watching it and will post it here, with a mention, if RunComfy finishes it."
            )
        case Failure.NOT_STARTED_BY_DEADLINE:
            return (
                f"RunComfy did not start this video within {detail} minutes, so the bot "
                "cancelled it. Nothing was charged."
            )
        case Failure.TOKEN_REVOKED:
            return (
                "RunComfy stopped accepting the bot's API token while this video was in "
                "progress. A server admin needs to fix RUNCOMFY_API_TOKEN; the bot keeps the "
                "job and carries on once the token works."
            )
        case Failure.SERVER_LEFT:
            return f"The bot was removed from this server. {NOTHING_CHARGED_IF_WAITING}"
        case Failure.CHANNEL_GONE:
            gone = "The video's channel is gone or the bot lost access to it."
            return f"{gone} {NOTHING_CHARGED_IF_WAITING}"
        case Failure.LEGACY:
            return detail or "No reason was given."


def limit_refusal(error: LimitExceeded) -> str:
    """Why a new job was refused by a limit or quota, with the numbers and what to do."""
    if isinstance(error, TooManyJobs):
        plural = "s" if error.active != 1 else ""
        return (
            f"You already have {error.active} video{plural} in progress and {error.waiting} "
            f"waiting in line; at most {error.max_active} can run and {error.max_waiting} wait "
            "per person. Wait for one to finish or cancel one."
        )
    if isinstance(error, DailySecondsExceeded):
        return (
            f"This {error.seconds} s video would bring you to {error.after} s of video today, "
            f"over your daily quota of {error.limit} s ({error.used} s used, {error.left} s "
            "left). Try a shorter video, or wait until the quota resets at midnight UTC."
        )
    if isinstance(error, DailyBudgetExceeded):
        return (
            f"This video (≈ {usd(error.estimate)}) would bring the server's spending today "
            f"to {usd(error.after)}, over its daily budget of {usd(error.budget)} "
            f"({usd(error.spent)} spent, {usd(error.left)} left). "
            "Try a shorter video or turn sound off, or wait until midnight UTC."
        )
    if isinstance(error, NotTakingJobs):
        if error.reason == TOKEN_REFUSED:
            return (
                "RunComfy refuses this bot's API token right now, so no videos can be made. "
                "The bot's operator has been told in its log."
            )
        return (
            "The bot can't record new videos right now (its database refuses writes). "
            "Try again in a few minutes."
        )
    return "A limit of this server refuses new videos right now."


def usage_line(usage: Usage) -> str:
    plural = "s" if usage.videos != 1 else ""
    return f"{usd(usage.dollars)} ({usage.videos} video{plural}, {usage.seconds} s)"
