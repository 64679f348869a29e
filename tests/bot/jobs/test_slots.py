"""The book's line index stays what a scan of every job would say, whatever changes."""

from __future__ import annotations

import random

from bot.jobs.model import ACTIVE_STATES, Job, JobState
from bot.jobs.slots import LineIndex, SlotCounts
from tests.bot.jobs.factories import make_job


def test_the_index_matches_a_scan_of_every_job_after_any_changes() -> None:
    rng = random.Random(7)
    index = LineIndex()
    jobs: dict[int, Job] = {}
    arrived: list[int] = []
    states = list(JobState)
    for _ in range(3_000):
        job_id = rng.randrange(60)
        previous = jobs.get(job_id)
        job: Job | None = None
        if rng.random() > 0.1:
            job = make_job(
                job_id,
                state=rng.choice(states),
                requester_id=rng.randrange(5),
                guild_id=rng.choice([None, 1, 2]),
                not_before=rng.choice([None, 5.0, 9.0]),
            )
        was = previous is not None and previous.state is JobState.WAITING
        now = job is not None and job.state is JobState.WAITING
        if now and not was:
            arrived.append(job_id)
        index.replace(previous, job)
        if job is None:
            jobs.pop(job_id, None)
        else:
            jobs[job_id] = job
        waiting = {i: j for i, j in jobs.items() if j.state is JobState.WAITING}
        assert index.waiting == waiting
        assert index.held_until == {
            i: j.not_before for i, j in waiting.items() if j.not_before is not None
        }
        active = {i: j for i, j in jobs.items() if j.state in ACTIVE_STATES}
        assert index.active == active
        expected = SlotCounts.of(active.values())
        assert index.counts.by_member == expected.by_member
        assert index.counts.by_server == expected.by_server
        assert index.counts.running == expected.running == len(active)
        if rng.random() < 0.1:
            assert index.take_arrivals() == list(dict.fromkeys(arrived))
            arrived.clear()


def test_a_count_falling_to_nothing_leaves_no_key_behind() -> None:
    counts = SlotCounts()
    job = make_job(1, state=JobState.RUNNING, requester_id=3, guild_id=9)
    counts.add(job)
    counts.add(job, -1)
    assert (dict(counts.by_member), dict(counts.by_server), counts.running) == ({}, {}, 0)
