"""A paid submit whose process loses its lease while the POST is on its way (its renewals
do not reach the database for a moment): RunComfy accepts the job, and the video is
delivered once — the next holder neither declares the job "may not have reached
RunComfy" while that submit may still be under way, nor loses the request id the first
process could no longer record as the job's holder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from bot.jobs.model import Failure, JobState
from bot.jobs.ports import StoreError
from testkit.runcomfy import Endpoint
from testkit.waiting import eventually
from tests.bot.jobs.rig import SPEED
from tests.bot.jobs.shared_world import World, die, submit

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

SLOW = 3.0
"""Real seconds RunComfy takes to answer the submit (it accepts the job at once): five
lease times."""


async def test_a_lease_lost_during_a_slow_paid_submit_still_delivers_the_video(
    world: World,
) -> None:
    first = await world.make("first")

    async def cut_off(job_ids: Iterable[int]) -> set[int]:
        raise StoreError("ConnectionDoesNotExistError: connection was closed in the middle")

    first.leases.renew = cut_off  # type: ignore[method-assign]
    world.emulator.slow(Endpoint.SUBMIT, SLOW)
    job_id = await submit(first, "sent slowly, paid for")
    await eventually(lambda: world.emulator.submit_count == 1, what="RunComfy to accept it")
    second = await world.make("second")
    await eventually(
        lambda: second.tracker.get(job_id) is not None, within=10.0, what="the take-over"
    )
    await eventually(
        lambda: job_id in world.notifier.posted, within=30.0, what="the video to be posted"
    )

    stored = await second.store.get(job_id)
    assert stored is not None
    assert stored.state is JobState.DELIVERED, (stored.state, stored.failure)
    assert stored.failure is None
    [accepted] = world.emulator.jobs
    assert stored.request_id == accepted
    notices = world.notifier.calls_for(job_id)
    assert [notice.state for notice in notices] == [JobState.COMPLETED], (
        "one message, the video; never 'may not have reached RunComfy'"
    )
    assert world.emulator.submit_count == 1, "never sent twice"


async def test_a_job_whose_sender_died_mid_submit_is_unknown_only_once_that_submit_is_over(
    world: World,
) -> None:
    """Nobody can say whether RunComfy took it (it did), so "may have been sent" is the
    truth, but only once the sender's submit cannot be under way any more."""
    window = {"submit_timeout": 6.0, "submit_record_grace": 1.0}
    first = await world.make("first", **window)
    world.emulator.slow(Endpoint.SUBMIT, 10.0)
    job_id = await submit(first, "sent by a process that died")
    await eventually(lambda: world.emulator.submit_count == 1, what="RunComfy to accept it")
    await die(first)
    second = await world.make("second", **window)
    await eventually(
        lambda: second.tracker.get(job_id) is not None, within=10.0, what="the take-over"
    )
    await asyncio.sleep(0.5)
    held = second.tracker.get(job_id)
    assert held is not None
    assert held.state is JobState.SUBMITTING, "not declared unknown while it may be under way"

    await eventually(
        lambda: job_id in world.notifier.posted, within=20.0, what="the member to be told"
    )
    stored = await second.store.get(job_id)
    assert stored is not None
    assert stored.state is JobState.SUBMISSION_UNKNOWN
    assert stored.failure is Failure.RESTARTED_WHILE_SUBMITTING
    sent, settled = stored.entered(JobState.SUBMITTING), stored.entered(stored.state)
    assert sent is not None
    assert settled is not None
    assert settled - sent >= 7.0 * SPEED, "the submit's longest duration had passed"
    assert world.emulator.submit_count == 1, "never sent again"
