"""The line the release keeps between turns is always the line a full sort would give,
and no job is released twice, whatever happens between turns: jobs arriving and leaving
again before a turn, cancels, leases lost, submits refused back into the line or held
back for want of room, slots freed, server limits changed. Driven through the real
`JobBook`, `LineIndex` and `LineRelease` on the bus, as the tracker drives them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from bot.jobs.book import JobBook
from bot.jobs.events import (
    EventBus,
    HeldBack,
    JobCommitted,
    JobLetGo,
    JobReleased,
    LineMayMove,
    SubmitSettled,
    TurnBegins,
)
from bot.jobs.line import ServerLimits, line_order
from bot.jobs.model import Job, JobState
from bot.jobs.release import LineRelease
from tests.bot.jobs.factories import make_job


class _Scheduler:
    def wake(self) -> None: ...

    def at(self, job_id: int, when: float) -> None: ...


class _Clock:
    def now(self) -> float:
        return 0.0


@dataclass
class Line:
    """A book and its release on one bus, with the tracker's side played by hand."""

    limits: dict[int | None, ServerLimits] = field(
        default_factory=lambda: {1: ServerLimits(2, 3), 2: ServerLimits(1, 2)}
    )
    total: int = 5

    def __post_init__(self) -> None:
        self.bus = EventBus()
        self.book = JobBook(store=None, bus=self.bus, clock=_Clock())  # type: ignore[arg-type]
        context: Any = SimpleNamespace(
            book=self.book,
            scheduler=_Scheduler(),
            bus=self.bus,
            limits_for=lambda guild: self.limits.get(guild, ServerLimits(2, 10)),
            settings=SimpleNamespace(max_active_total=self.total),
        )
        self.release = LineRelease(context, token=SimpleNamespace(refused=False))
        self.released: list[int] = []
        self.bus.subscribe(JobReleased, lambda event: self.released.append(event.job.id))

    def commit(self, job: Job) -> None:
        previous = self.book.get(job.id)
        if job.state.is_final:
            self.book.drop(job.id)
        else:
            self.book._put(job)
        self.bus.publish(JobCommitted(previous, job))

    def turn(self, now: float) -> list[int]:
        before = len(self.released)
        self.bus.publish(LineMayMove())
        self.bus.publish(TurnBegins(now))
        return self.released[before:]

    def resorted(self) -> list[int]:
        waiting = [
            job for job in self.book.line.waiting.values() if job.id not in self.release._reserved
        ]
        return [job.id for job in line_order(waiting, self.release._last_served)]


def like(job: Job, state: JobState, **changes: Any) -> Job:
    return make_job(
        job.id, state=state, requester_id=job.requester_id, guild_id=job.guild_id, **changes
    )


def test_an_arrival_that_leaves_before_the_turn_does_not_put_a_released_job_back() -> None:
    """M and R released; M's submit finds no room (held back, still waiting) while R's
    waits at the gate; a third job arrives and is cancelled before the next turn. R is not
    released a second time, and M comes back once its hold is over."""
    line = Line(limits={5: ServerLimits(per_user=2, per_server=10)}, total=10)
    m = make_job(1, state=JobState.WAITING, requester_id=1, guild_id=5)
    r = make_job(2, state=JobState.WAITING, requester_id=2, guild_id=5)
    line.commit(m)
    line.commit(r)
    assert line.turn(1.0) == [1, 2]
    line.bus.publish(HeldBack(1, 2.0))
    line.bus.publish(SubmitSettled(1))
    passing = make_job(3, state=JobState.WAITING, requester_id=3, guild_id=5)
    line.commit(passing)
    line.commit(like(passing, JobState.CANCELLED))
    assert line.turn(1.5) == [], "R is still being sent, M is held back"
    assert line.release.place_of(2) is None, "R has no place: it is being sent"
    assert line.turn(3.0) == [1], "M comes back once its hold is over"


@pytest.mark.parametrize("seed", range(40))
def test_the_kept_line_is_the_sorted_line_and_nothing_is_released_twice(seed: int) -> None:
    rng = random.Random(seed)
    line = Line()
    book = line.book
    next_id, now = 1, 0.0
    being_sent: list[int] = []
    for step in range(400):
        now += 0.1
        roll = rng.random()
        waiting = list(book.line.waiting)
        if roll < 0.25:
            line.commit(
                make_job(
                    next_id,
                    state=JobState.WAITING,
                    requester_id=rng.randrange(6),
                    guild_id=rng.choice([1, 2, None]),
                )
            )
            next_id += 1
        elif roll < 0.33 and waiting:
            job = book.get(rng.choice(waiting))
            assert job is not None
            line.commit(like(job, JobState.CANCELLED))
        elif roll < 0.36 and waiting:
            lost = rng.choice(waiting)
            book.drop(lost)
            line.bus.publish(JobLetGo(lost))
        elif roll < 0.55 and being_sent:
            job_id = being_sent.pop(rng.randrange(len(being_sent)))
            job = book.get(job_id)
            if job is not None and job.state is JobState.WAITING:
                outcome = rng.random()
                if outcome < 0.3:
                    line.bus.publish(HeldBack(job_id, now + rng.choice([0.05, 0.5])))
                elif outcome < 0.5:
                    line.commit(like(job, JobState.SUBMITTING))
                    again = now + rng.choice([0.0, 0.3])
                    line.commit(like(job, JobState.WAITING, not_before=again))
                else:
                    line.commit(like(job, JobState.SUBMITTING))
                    line.commit(like(job, JobState.QUEUED))
            line.bus.publish(SubmitSettled(job_id))
        elif roll < 0.65 and book.line.active:
            job = book.get(rng.choice(list(book.line.active)))
            assert job is not None
            line.commit(like(job, JobState.COMPLETED))
            line.commit(like(job, JobState.DELIVERED))
        elif roll < 0.68:
            line.limits[1] = ServerLimits(rng.choice([1, 2]), rng.choice([1, 3, 4]))
        else:
            sending = set(being_sent) | set(line.release._reserved)
            picks = line.turn(now)
            twice = [job_id for job_id in picks if job_id in sending]
            assert twice == [], f"step {step}: released again while being sent"
            being_sent.extend(picks)
            assert line.release._places.order == line.resorted(), f"step {step}"
