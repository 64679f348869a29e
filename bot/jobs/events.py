"""What the tracker's rooms tell each other, and the bus that carries it.

A room does its own work and says what came of it as a small typed event; each room that
cares reacts in a named handler (`on_job_committed`, `on_line_may_move`, …) that it
subscribes itself, so following a job means reading method calls and handlers, not
callables threaded through constructors. The bus is synchronous: `publish` returns once
every handler ran, in the order they subscribed, so an event costs one call per handler
and nothing waits or queues (a handler's error reaches the publisher, as a call's would).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.jobs.model import Failure, Job


@dataclass(frozen=True, slots=True)
class Event:
    """Something one room of the tracker says happened."""


@dataclass(frozen=True, slots=True)
class JobCommitted(Event):
    """A change of a job was recorded (store, then memory); observers hear of it next."""

    previous: Job | None
    """The version before, if the job was open in memory."""
    job: Job


@dataclass(frozen=True, slots=True)
class TurnBegins(Event):
    """The scheduler's loop takes a turn; due jobs are handed out right after."""

    now: float


@dataclass(frozen=True, slots=True)
class JobDue(Event):
    """A job's due time came: whoever attends to it in its state acts now."""

    job_id: int


@dataclass(frozen=True, slots=True)
class ReminderDue(Event):
    """A time asked for with `Scheduler.remind` came (the estimate a status card shows
    for the job passes)."""

    job_id: int


@dataclass(frozen=True, slots=True)
class LineMayMove(Event):
    """A change may let a waiting job go or reorder the line: release it at the next turn."""


@dataclass(frozen=True, slots=True)
class JobReleased(Event):
    """The line let a waiting job go: it is sent to RunComfy now, and holds a slot until
    its submit settles."""

    job: Job


@dataclass(frozen=True, slots=True)
class HeldBack(Event):
    """A released job could not be sent (the database refused, or found no room): it
    waits in line until `until`."""

    job_id: int
    until: float


@dataclass(frozen=True, slots=True)
class SubmitSettled(Event):
    """A released job's submit is over, whatever its outcome; its slot is free again."""

    job_id: int


@dataclass(frozen=True, slots=True)
class TokenRefused(Event):
    """RunComfy refused the bot's API token (401/403)."""


@dataclass(frozen=True, slots=True)
class TokenWorks(Event):
    """RunComfy answered with the bot's API token (a poll, or the token probe)."""


@dataclass(frozen=True, slots=True)
class StoreRefuses(Event):
    """The store refused a write after taking the one before (it was healthy until now)."""


@dataclass(frozen=True, slots=True)
class JobLetGo(Event):
    """Another process holds the job now: this one forgets everything it kept for it."""

    job_id: int


@dataclass(frozen=True, slots=True)
class DestinationLost(Event):
    """The Discord side says a job's server (`guild_id`) or channel (`channel_id`) is gone,
    though no departure was reported here (it went to another process, or came while this
    one was down): the jobs there are stopped as if it had been."""

    guild_id: int | None
    channel_id: int | None
    failure: Failure


E = TypeVar("E", bound=Event)


class EventBus:
    """Synchronous, typed: each event goes to the handlers subscribed to its exact type."""

    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Callable[[Any], None]]] = {}

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    def publish(self, event: Event) -> None:
        for handler in self._handlers.get(type(event), ()):
            handler(event)

    def handlers(self, kind: type[Event]) -> tuple[Callable[[Any], None], ...]:
        """Who reacts to `kind`, in order."""
        return tuple(self._handlers.get(kind, ()))
