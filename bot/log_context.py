"""What a log line is about: the job, the server and RunComfy's request id, where known.

Held in one context variable, so every line logged while a job's task runs (the tracker's,
RunComfy's client, the delivery) carries them without each call passing them on. A task
copies its creator's context, so a value set inside a task stays with that task and the
tasks it starts. `bot.logs` reads it into each record; neutral on purpose, so the jobs
core may set it without knowing how lines are written. One small immutable value per
task, not one variable per field: a bot running for months starts millions of tasks.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

FIELDS = ("job_id", "server_id", "request_id")
"""The record attributes, in the order a line shows them."""


@dataclass(frozen=True, slots=True)
class About:
    job_id: int | None = None
    server_id: int | None = None
    request_id: str | None = None


ABOUT: contextvars.ContextVar[About | None] = contextvars.ContextVar("log_about", default=None)


def bind(
    *, job_id: int | None = None, server_id: int | None = None, request_id: str | None = None
) -> None:
    """Say what the current task works on from here on; None leaves a value as it is."""
    about = ABOUT.get() or About()
    ABOUT.set(
        About(
            about.job_id if job_id is None else job_id,
            about.server_id if server_id is None else server_id,
            about.request_id if request_id is None else request_id,
        )
    )


def context_for(
    *, job_id: int | None = None, server_id: int | None = None, request_id: str | None = None
) -> contextvars.Context:
    """A copy of the current context about this job, to start a task in (its creator's own
    context is left as it was)."""
    context = contextvars.copy_context()
    context.run(ABOUT.set, About(job_id, server_id, request_id))
    return context


def current() -> dict[str, Any]:
    """The values known in this context, by record attribute."""
    about = ABOUT.get()
    if about is None:
        return {}
    return {name: value for name in FIELDS if (value := getattr(about, name)) is not None}
