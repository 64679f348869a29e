"""The line's places kept between releases: each change is put in where it belongs, and
the line ends up as sorting it again would make it."""

from __future__ import annotations

import random

from bot.jobs.line import line_order
from bot.jobs.model import Job, JobState
from bot.jobs.places import LinePlaces
from tests.bot.jobs.factories import make_job


def waiting(job_id: int, user: int, guild: int | None = 1) -> Job:
    return make_job(job_id, state=JobState.WAITING, requester_id=user, guild_id=guild)


def facts(places: LinePlaces) -> list[tuple[int, object]]:
    return [(job_id, places.get(job_id)) for job_id in places.order]


def test_joins_leaves_and_members_served_end_where_sorting_the_line_again_puts_them() -> None:
    rng = random.Random(3)
    served: dict[int, float] = {user: float(rng.randrange(100)) for user in range(0, 12, 2)}
    line: dict[int, Job] = {}
    kept = LinePlaces()
    kept.rebuild([], served)
    for step in range(1, 600):
        if line and rng.random() < 0.4:
            job = line.pop(rng.choice(list(line)))
            if rng.random() < 0.5:  # sent to RunComfy: its member was served now
                served[job.requester_id] = 100.0 + step
            kept.leave(job.id, served)
        else:
            job = waiting(step, rng.randrange(12), rng.choice([None, 1, 2]))
            line[job.id] = job
            assert kept.join(job, served)
        sorted_again = LinePlaces()
        sorted_again.rebuild(line.values(), served)
        assert kept.order == [job.id for job in line_order(line.values(), served)]
        assert facts(kept) == facts(sorted_again)


def test_a_place_counts_the_jobs_ahead_for_each_limit() -> None:
    kept = LinePlaces()
    kept.rebuild([waiting(1, 7, 1), waiting(2, 8, 2), waiting(3, 7, 1), waiting(4, 9, 1)], {})
    assert kept.order == [1, 2, 4, 3], "round robin: 7's second job after everyone's first"
    place = kept.get(3)
    assert place is not None
    assert (place.place, place.member_ahead, place.server_ahead) == (4, 1, 2)
    assert kept.get(99) is None


def test_a_job_older_than_its_requesters_newest_asks_for_the_line_to_be_sorted() -> None:
    kept = LinePlaces()
    kept.rebuild([waiting(5, 1)], {})
    assert not kept.join(waiting(4, 1), {})
    assert not kept.join(waiting(5, 1), {}), "already in line"
    assert kept.order == [5]


def test_a_card_comes_back_near_the_front_at_every_move_and_further_back_by_a_fifth() -> None:
    kept = LinePlaces()
    served = {100 + job_id: 1.0 for job_id in range(1, 31)} | {999: 0.0}
    line = [waiting(job_id, 100 + job_id) for job_id in range(1, 31)]
    kept.rebuild(line, served)
    assert kept.moved() == [job.id for job in line], "every job is new in line"
    assert kept.moved() == [], "nothing moved since"
    # a member served longer ago goes ahead of everyone in round 0: every place moves by one
    assert kept.join(waiting(31, 999), served)
    assert kept.moved() == [31, 1, 2, 3, 4, 5], "within the first five every move counts"
    for newcomer in range(32, 36):  # never served: ahead of everyone too
        assert kept.join(waiting(newcomer, 1000 + newcomer), served)
    kept.moved()
    place = kept.get(30)
    assert place is not None
    assert place.place == 35
    assert kept.join(waiting(36, 2000), served)
    assert 30 in kept.moved(), "36 is a fifth past 30"
    kept.leave(36, served)
    assert 30 not in kept.moved(), "35 is not a fifth before 36"
