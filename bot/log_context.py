"""What a log line is about: the job, the server and RunComfy's request id, where known.

Held in context variables, so every line logged while a job's task runs (the tracker's,
RunComfy's client, the delivery) carries them without each call passing them on. A task
copies its creator's context, so a value set inside a task stays with that task and the
tasks it starts. `bot.logs` reads them into each record; neutral on purpose, so the jobs
core may set them without knowing how lines are written.
"""

from __future__ import annotations

import contextvars
from typing import Any

JOB_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_id", default=None)
SERVER_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar("server_id", default=None)
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

FIELDS: tuple[tuple[str, contextvars.ContextVar[Any]], ...] = (
    ("job_id", JOB_ID),
    ("server_id", SERVER_ID),
    ("request_id", REQUEST_ID),
)
"""Each record attribute and the variable it is read from."""


def bind(
    *, job_id: int | None = None, server_id: int | None = None, request_id: str | None = None
) -> None:
    """Say what the current task works on from here on; None leaves a value as it is."""
    if job_id is not None:
        JOB_ID.set(job_id)
    if server_id is not None:
        SERVER_ID.set(server_id)
    if request_id is not None:
        REQUEST_ID.set(request_id)


def context_for(
    *, job_id: int | None = None, server_id: int | None = None, request_id: str | None = None
) -> contextvars.Context:
    """A copy of the current context about this job, to start a task in (its creator's own
    context is left as it was)."""
    context = contextvars.copy_context()
    context.run(bind, job_id=job_id, server_id=server_id, request_id=request_id)
    return context


def current() -> dict[str, Any]:
    """The values known in this context, by record attribute."""
    return {name: value for name, variable in FIELDS if (value := variable.get()) is not None}
