"""What people read about jobs, in one place: the sentences for what the jobs and RunComfy
layers only name (failures, RunComfy's problems, refused limits, usage).

The Discord side and the command line both word these through here; the words
themselves live in the catalogs (`bot/locales/`), so every function takes the reader's
`Texts` (English when left out, as on the command line).
"""

from __future__ import annotations

from typing import Any

from bot.i18n import Texts, english
from bot.jobs.line import TOKEN_REFUSED, LimitExceeded, NotTakingJobs, TooManyJobs
from bot.jobs.model import Failure
from bot.jobs.ports import NoticeProblem, read_notice_record
from bot.jobs.usage import DailyBudgetExceeded, DailySecondsExceeded, Usage
from bot.redaction import redact
from bot.runcomfy.errors import ErrorKind
from bot.runcomfy.given import GivenKind, given_value
from bot.runcomfy.input_error import KlingInputError
from bot.sessions.rules import EntryRefusal, EntryRefused

DETAIL_MAX_CHARS = 500
THEME_IN_REFUSAL_CHARS = 200
"""RunComfy's own words are quoted up to this length, so every message they go into fits."""

RUNCOMFY_PROBLEMS: dict[ErrorKind, str] = {
    kind: f"runcomfy.{kind.name.lower()}" for kind in ErrorKind
}
"""The catalog key of each RunComfy problem."""

FAILURE_KEYS: dict[Failure, str] = {
    Failure.RESTARTED_BEFORE_QUEUED: "failure.restarted_before_queued",
    Failure.RESTARTED_WHILE_SUBMITTING: "failure.restarted_while_submitting",
    Failure.CANCELLED_AT_RUNCOMFY: "failure.cancelled_at_runcomfy",
    Failure.NO_VIDEO: "failure.no_video",
    Failure.TOKEN_REVOKED: "failure.token_revoked",
    Failure.SERVER_LEFT: "failure.server_left",
    Failure.CHANNEL_GONE: "failure.channel_gone",
}
"""Failures worded by one fixed sentence."""


def runcomfy_problem(kind: ErrorKind | str | None, tr: Texts | None = None) -> str:
    """RunComfy's problem in plain words (an unknown or missing kind reads as "other")."""
    tr = tr or english()
    try:
        return tr(RUNCOMFY_PROBLEMS[ErrorKind(kind or ErrorKind.OTHER)])
    except ValueError:
        return tr(RUNCOMFY_PROBLEMS[ErrorKind.OTHER])


def outside_words(text: str | None, limit: int = DETAIL_MAX_CHARS) -> str | None:
    """Text from RunComfy or Discord as it may be shown: credentials redacted, on one line,
    at most `limit` characters (cut marked with …)."""
    if not text:
        return text
    flat = " ".join(redact(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def failure_text(failure: Failure, detail: str | None, tr: Texts | None = None) -> str:
    """Why a job has no video, as the requester reads it; RunComfy's words are redacted
    and shortened."""
    tr = tr or english()
    detail = outside_words(detail)
    if failure in FAILURE_KEYS:
        return tr(FAILURE_KEYS[failure])
    match failure:
        case Failure.SUBMIT_OUTCOME_UNKNOWN:
            return runcomfy_problem(ErrorKind.SUBMIT_OUTCOME_UNKNOWN, tr)
        case Failure.TOKEN_REFUSED:
            return runcomfy_problem(ErrorKind.AUTHENTICATION, tr)
        case Failure.OUT_OF_CREDIT:
            return runcomfy_problem(ErrorKind.INSUFFICIENT_BALANCE, tr)
        case Failure.INPUT_REFUSED:
            if not detail:
                return runcomfy_problem(ErrorKind.INVALID_INPUT, tr)
            return tr("failure.input_refused", reason=detail)
        case Failure.RUNCOMFY_BUSY:
            problem = runcomfy_problem(ErrorKind.RATE_LIMITED, tr)
            return tr("failure.nothing_charged", problem=problem)
        case Failure.RUNCOMFY_DOWN:
            return tr("failure.nothing_charged", problem=runcomfy_problem(detail, tr))
        case Failure.RUNCOMFY_ERROR:
            return runcomfy_problem(detail, tr)
        case Failure.RETRYING:
            return tr("failure.retrying", problem=runcomfy_problem(detail, tr))
        case Failure.GENERATION_FAILED:
            if detail:
                return tr("failure.generation_failed_because", reason=detail)
            return tr("failure.generation_failed")
        case Failure.UNKNOWN_TO_RUNCOMFY:
            return runcomfy_problem(ErrorKind.NOT_FOUND, tr)
        case Failure.DEADLINE_PASSED:
            return tr("failure.deadline_passed", minutes=detail)
        case Failure.NOT_STARTED_BY_DEADLINE:
            return tr("failure.not_started_by_deadline", minutes=detail)
        case _:
            return detail or tr("failure.no_reason")


NOTICE_PROBLEMS_WITH_DETAIL = frozenset({NoticeProblem.DISCORD_ERROR})
"""Problems whose recorded detail (Discord's status and words) helps whoever reads them."""


def notice_problem(record: str, tr: Texts | None = None) -> str:
    """Why the result could not be posted, from what the job recorded (`notice_record`);
    an older free-text record is shown as it is, shortened."""
    tr = tr or english()
    problem, detail = read_notice_record(record)
    if problem is None:
        return outside_words(detail, 300) or ""
    if problem in NOTICE_PROBLEMS_WITH_DETAIL:
        return tr(f"notice_problem.{problem}", detail=outside_words(detail, 300) or "—")
    return tr(f"notice_problem.{problem}")


def entry_refusal(error: EntryRefused, tr: Texts | None = None) -> str:
    """Why a video was refused as an entry of a prompt session, with the numbers."""
    tr = tr or english()
    theme = " ".join(error.theme.split())[:THEME_IN_REFUSAL_CHARS]
    match error.kind:
        case EntryRefusal.CLOSED:
            return tr("entry.refused.closed")
        case EntryRefusal.TOO_MANY:
            return tr.plural("entry.refused.too_many", error.allowed, theme=theme)
        case EntryRefusal.OVER_BUDGET:
            return tr(
                "entry.refused.over_budget",
                theme=theme,
                estimate=tr.usd(error.estimate),
                left=tr.usd(error.left),
                budget=tr.usd(error.budget),
            )


def limit_refusal(error: LimitExceeded, tr: Texts | None = None) -> str:
    """Why a new job was refused by a limit or quota, with the numbers and what to do."""
    tr = tr or english()
    if isinstance(error, EntryRefused):
        return entry_refusal(error, tr)
    if isinstance(error, TooManyJobs):
        return tr.plural(
            "limit.too_many_jobs",
            error.active,
            waiting=error.waiting,
            max_active=error.max_active,
            max_waiting=error.max_waiting,
        )
    if isinstance(error, DailySecondsExceeded):
        return tr(
            "limit.daily_seconds",
            seconds=tr.integer(error.seconds),
            after=tr.integer(error.after),
            limit=tr.integer(error.limit),
            used=tr.integer(error.used),
            left=tr.integer(error.left),
        )
    if isinstance(error, DailyBudgetExceeded):
        return tr(
            "limit.daily_budget",
            estimate=tr.usd(error.estimate),
            after=tr.usd(error.after),
            budget=tr.usd(error.budget),
            spent=tr.usd(error.spent),
            left=tr.usd(error.left),
        )
    if isinstance(error, NotTakingJobs):
        if error.reason == TOKEN_REFUSED:
            return tr("limit.token_refused")
        return tr("limit.database_refuses")
    return tr("limit.other")


def usage_line(usage: Usage, tr: Texts | None = None) -> str:
    """`$0.42 (2 videos, 10 s)`."""
    tr = tr or english()
    return tr.plural(
        "usage.line",
        usage.videos,
        dollars=tr.usd(usage.dollars),
        seconds=tr.integer(usage.seconds),
    )


OPTION_NAME = "command.video.generate.{option}.name"
"""A request field is named as the reader's `/video generate` names its option."""


def input_refusal(error: KlingInputError, tr: Texts | None = None) -> str:
    """A refused input in the reader's language: the catalog's sentence for the broken rule
    (`input.<rule>`), the field named as the reader's command names it, the allowed values
    and numbers written the way the language writes them, and what was given."""
    tr = tr or english()
    values = {name: _fact(value, tr) for name, value in error.facts.items()}
    values["field"] = input_field(error, tr)
    values["given"] = given_words(error.value, tr)
    return tr(f"input.{error.rule}", **values)


def option_name(option: str, tr: Texts) -> str:
    """`dauer` for `duration` in German; a field no command has keeps its API name."""
    key = OPTION_NAME.format(option=option)
    return tr(key) if tr.knows(key) else option


def input_field(error: KlingInputError, tr: Texts) -> str:
    """The refused field: an option (`dauer`), or a part of one of its shots."""
    option, shot, part = (error.facts.get(name) for name in ("option", "shot", "part"))
    if not isinstance(option, str):
        return error.field
    name = option_name(option, tr)
    if shot is None:
        return name
    if not isinstance(part, str):
        return tr("input.field.shot", option=name, shot=shot)
    return tr("input.field.shot_part", option=name, shot=shot, part=option_name(part, tr))


def given_words(value: object, tr: Texts) -> str:
    """What was given, in words: `only spaces` / `nur Leerzeichen`, `1.5` / `1,5`."""
    seen = given_value(value)
    key = f"given.{seen.kind.value}"
    facts = dict(seen.facts)
    if seen.kind is GivenKind.LIST:
        return tr.plural(key, facts["count"])
    if "count" in facts:
        facts["count"] = tr.integer(facts["count"])
    if "number" in facts:
        facts["number"] = tr.as_given(facts["number"])
    return tr(key, **facts)


def _fact(value: Any, tr: Texts) -> object:
    """A rule's number or allowed values, as the language writes them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return tr.integer(value)
    if isinstance(value, float):
        return tr.number(value)
    if isinstance(value, tuple | list):
        return tr.either(str(item) for item in value)
    return value
