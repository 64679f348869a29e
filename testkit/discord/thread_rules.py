"""Discord's rules for thread bodies (Start Thread from Message / without Message, Modify
Channel for a thread): name 1-100, ``auto_archive_duration`` 60, 1440, 4320 or 10080,
``rate_limit_per_user`` 0-21600 (or null), a thread ``type`` of 11 or 12 in a text channel,
boolean ``invitable``, ``archived`` and ``locked``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import FormErrors
from .form_checks import boolean, integer, text
from .world import ARCHIVE_DURATIONS, PRIVATE_THREAD, PUBLIC_THREAD

NAME_MAX = 100
SLOWMODE_MAX = 21600
TEXT_THREAD_TYPES = (PUBLIC_THREAD, PRIVATE_THREAD)


@dataclass(frozen=True)
class ThreadFields:
    """The fields a request carried, checked; ``None`` where it left one out."""

    name: str | None
    auto_archive_duration: int | None
    rate_limit_per_user: int | None
    kind: int | None
    invitable: bool | None
    archived: bool | None
    locked: bool | None


def validate_start(body: dict[str, Any], *, with_message: bool) -> ThreadFields:
    """A new thread's body; without a message ``type`` defaults to a private thread, as
    Discord documents ("type currently defaults to PRIVATE_THREAD")."""
    form = FormErrors()
    name = text(form, body, "name", [], min_len=1, max_len=NAME_MAX, required=True)
    fields = _common(form, body)
    kind = None
    if not with_message:
        kind = integer(form, body, "type", [])
        if kind is not None and kind not in TEXT_THREAD_TYPES:
            _choices(form, "type", TEXT_THREAD_TYPES)
            kind = None
        kind = kind or PRIVATE_THREAD
    invitable = boolean(form, body, "invitable", [])
    form.raise_if_any()
    return ThreadFields(name, *fields, kind, invitable, None, None)


def validate_edit(body: dict[str, Any]) -> ThreadFields:
    form = FormErrors()
    name = text(form, body, "name", [], min_len=1, max_len=NAME_MAX)
    fields = _common(form, body)
    invitable = boolean(form, body, "invitable", [])
    archived = boolean(form, body, "archived", [])
    locked = boolean(form, body, "locked", [])
    form.raise_if_any()
    return ThreadFields(name, *fields, None, invitable, archived, locked)


def _common(form: FormErrors, body: dict[str, Any]) -> tuple[int | None, int | None]:
    duration = integer(form, body, "auto_archive_duration", [])
    if duration is not None and duration not in ARCHIVE_DURATIONS:
        _choices(form, "auto_archive_duration", ARCHIVE_DURATIONS)
        duration = None
    slowmode = integer(form, body, "rate_limit_per_user", [], low=0, high=SLOWMODE_MAX)
    return duration, slowmode


def _choices(form: FormErrors, key: str, allowed: tuple[int, ...]) -> None:
    form.add([key], "BASE_TYPE_CHOICES", f"Value must be one of {allowed}.")
