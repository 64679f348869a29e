"""The tracker's rooms speak in typed events on a synchronous bus: each event reaches the
handlers of its own kind, in order."""

from __future__ import annotations

import pytest

from bot.jobs.events import EventBus, HeldBack, JobDue, LineMayMove


def test_each_event_reaches_its_own_kind_of_handler_in_order() -> None:
    bus = EventBus()
    heard: list[str] = []
    bus.subscribe(JobDue, lambda due: heard.append(f"first {due.job_id}"))
    bus.subscribe(HeldBack, lambda held: heard.append(f"held {held.job_id}"))
    bus.subscribe(JobDue, lambda due: heard.append(f"second {due.job_id}"))

    bus.publish(JobDue(7))
    bus.publish(LineMayMove())

    assert heard == ["first 7", "second 7"]


def test_a_handlers_error_reaches_the_publisher() -> None:
    bus = EventBus()

    def fail(event: LineMayMove) -> None:
        raise RuntimeError("boom")

    bus.subscribe(LineMayMove, fail)
    with pytest.raises(RuntimeError, match="boom"):
        bus.publish(LineMayMove())
