"""The tracker's rooms speak in typed events on a synchronous bus: each event reaches the
handlers of its own kind, in order, and every event a room says has a room that reacts."""

from __future__ import annotations

import pytest

import bot.jobs.events as events
from bot.jobs.events import Event, EventBus, HeldBack, JobDue, LineMayMove, TurnBegins
from bot.jobs.model import JobState
from bot.jobs.release import LineRelease, Release
from tests.bot.jobs.rig import Rig, make_settings


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


def event_kinds() -> list[type[Event]]:
    return [
        kind
        for kind in vars(events).values()
        if isinstance(kind, type) and issubclass(kind, Event) and kind is not Event
    ]


async def test_every_event_has_a_room_that_reacts_and_the_line_has_one_release(
    make_rig,
) -> None:
    rig: Rig = await make_rig()
    tracker = await rig.start()
    bus = tracker._context.bus

    assert [kind.__name__ for kind in event_kinds() if not bus.handlers(kind)] == []
    for kind in (LineMayMove, TurnBegins, JobDue):
        assert len(bus.handlers(kind)) == 1, f"{kind.__name__} has one handler"


async def test_the_line_is_released_only_when_it_may_have_moved(
    make_rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Releasing reads the whole line; running it at every turn of the scheduler (every
    poll) is what made a busy tracker's CPU grow with the square of its jobs."""
    releases: list[float] = []
    turns: list[float] = []
    release, turn = LineRelease._release, LineRelease.on_turn_begins

    def counted_release(self: LineRelease, now: float, *, closing: bool) -> Release:
        releases.append(now)
        return release(self, now, closing=closing)

    def counted_turn(self: LineRelease, event: TurnBegins) -> None:
        turns.append(event.now)
        turn(self, event)

    monkeypatch.setattr(LineRelease, "_release", counted_release)
    monkeypatch.setattr(LineRelease, "on_turn_begins", counted_turn)
    rig: Rig = await make_rig(settings=make_settings(max_active_total=4))
    await rig.start()
    jobs = [await rig.submit(user=user) for user in range(1, 11)]
    for job in jobs:
        await rig.wait_for_state(job.id, JobState.DELIVERED)

    assert len(releases) <= 4 * len(jobs), "joins, releases, settles and finishes only"
    assert len(turns) > 2 * len(releases), "most turns (polls, notices) leave the line alone"
