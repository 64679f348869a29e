"""The waiting line: round-robin fairness and the active-job limits."""

from __future__ import annotations

from collections.abc import Iterator

from bot.jobs.line import ServerLimits, line_order, pick_releases, pick_within
from bot.jobs.model import Job, JobOrigin, JobState
from bot.jobs.slots import SlotCounts
from tests.bot.jobs.factories import make_job


def waiting(job_id: int, user: int, guild: int = 1, **changes: object) -> Job:
    return make_job(job_id, state=JobState.WAITING, requester_id=user, guild_id=guild, **changes)


def active(job_id: int, user: int, guild: int = 1) -> Job:
    return make_job(job_id, state=JobState.QUEUED, requester_id=user, guild_id=guild)


def pick(order, running, *, per_user=2, per_server=10, total=50, now=0.0) -> list[Job]:
    limits = ServerLimits(per_user=per_user, per_server=per_server)
    return pick_releases(order, running, limits_for=lambda guild: limits, total=total, now=now)


def test_round_robin_between_users_regardless_of_arrival() -> None:
    jobs = [waiting(i, user=1) for i in range(1, 6)] + [waiting(i, user=2) for i in range(6, 9)]
    order = [job.requester_id for job in line_order(jobs, {})]
    assert order == [1, 2, 1, 2, 1, 2, 1, 1]


def test_user_served_longest_ago_goes_first_within_a_round() -> None:
    jobs = [waiting(1, user=1), waiting(2, user=2)]
    assert [j.id for j in line_order(jobs, {1: 50.0, 2: 10.0})] == [2, 1]
    assert [j.id for j in line_order(jobs, {1: 10.0, 2: 50.0})] == [1, 2]


def test_per_user_limit_skips_to_the_next_user() -> None:
    order = line_order([waiting(3, user=1), waiting(4, user=2)], {})
    picks = pick(order, [active(1, 1), active(2, 1)], per_user=2)
    assert [job.id for job in picks] == [4]


def test_per_server_and_total_limits() -> None:
    order = line_order([waiting(5, user=3, guild=1), waiting(6, user=4, guild=2)], {})
    running = [active(1, 1, guild=1), active(2, 2, guild=1)]
    picks = pick(order, running, per_user=2, per_server=2, total=10)
    assert [job.id for job in picks] == [6]
    picks = pick(order, running, per_user=2, per_server=5, total=3)
    assert [job.id for job in picks] == [5]


def test_a_job_told_to_wait_is_not_released_early() -> None:
    order = [waiting(1, user=1, not_before=100.0), waiting(2, user=2)]
    assert [j.id for j in pick(order, [], now=50.0)] == [2]
    assert [j.id for j in pick(order, [], now=100.0)] == [1, 2]


def test_releases_count_against_limits_within_one_batch() -> None:
    order = line_order([waiting(i, user=1) for i in range(1, 5)], {})
    assert len(pick(order, [], per_user=2)) == 2


def test_each_server_has_its_own_limits() -> None:
    order = line_order([waiting(3, user=1, guild=1), waiting(4, user=2, guild=2)], {})
    running = [active(1, 5, guild=1), active(2, 6, guild=2)]
    limits = {1: ServerLimits(per_user=2, per_server=1), 2: ServerLimits(per_user=2, per_server=5)}
    picks = pick_releases(order, running, limits_for=limits.__getitem__, total=50, now=0.0)
    assert [job.id for job in picks] == [4]


def test_a_members_limit_counts_only_jobs_in_that_server() -> None:
    order = line_order([waiting(3, user=1, guild=2)], {})
    running = [active(1, 1, guild=1), active(2, 1, guild=1)]
    assert [job.id for job in pick(order, running, per_user=2)] == [3]


def test_a_requester_with_a_limit_of_their_own_is_held_to_it() -> None:
    """A role tier's videos at once: more or fewer than the server's per member."""
    own = JobOrigin(requester_id=1, channel_id=1000, guild_id=1, active_limit=1)
    generous = JobOrigin(requester_id=2, channel_id=1000, guild_id=1, active_limit=4)
    order = [
        waiting(5, user=1, origin=own),
        waiting(6, user=2, origin=generous),
        waiting(7, user=2, origin=generous),
    ]
    running = [active(1, 1), active(2, 2), active(3, 2)]
    assert [job.id for job in pick(order, running, per_user=2)] == [6, 7]


def test_a_line_of_full_servers_is_left_as_soon_as_every_server_is_full() -> None:
    running = [active(1, 1, guild=1), active(2, 2, guild=2)]
    order = [waiting(job_id, user=job_id, guild=1 + job_id % 2) for job_id in range(3, 40)]
    seen: list[int] = []

    def walked() -> Iterator[Job]:
        for job in order:
            seen.append(job.id)
            yield job

    limits = ServerLimits(per_user=2, per_server=1)
    held = SlotCounts.of(running)
    picks = pick_within(walked(), held, limits_for=lambda _: limits, total=50, now=0.0, servers=2)
    assert picks == []
    assert seen == [3, 4], "both servers were full at the first job of each"
    assert pick_releases(order, running, limits_for=lambda _: limits, total=50, now=0.0) == []
