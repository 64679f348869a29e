"""A caller's own rule for a new job (a prompt session's entries): run under the intake
with the job's estimate, refusing before anything is stored; the job keeps the session
it is an entry of; and a held intake takes no job until it is let go."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.jobs.line import LimitExceeded
from bot.jobs.model import JobOrigin
from bot.runcomfy.request import KlingRequest
from bot.sessions.model import SessionDraft
from bot.store.sqlite_sessions import SqliteSessionStore

ORIGIN = JobOrigin(requester_id=1, channel_id=500, guild_id=100)
REQUEST = KlingRequest(prompt="a fox in the snow", duration=5)


class Refused(LimitExceeded):
    pass


async def test_the_rule_sees_the_estimate_and_the_job_keeps_its_session(make_rig) -> None:
    rig = await make_rig()
    tracker = await rig.start()
    seen: list[Decimal] = []

    async def check(estimate: Decimal) -> None:
        seen.append(estimate)

    sessions = SqliteSessionStore(rig.store.db)
    session = await sessions.create(SessionDraft(100, 500, 1, "foxes", 30).session(0.0))
    assert session is not None
    job = await tracker.create(REQUEST, ORIGIN, session_id=session.id, check=check)
    assert seen == [job.estimated_cost]
    assert (await rig.job(job.id)).session_id == session.id
    assert [entry.job_id for entry in await sessions.entry_jobs(session.id)] == [job.id]


async def test_a_refusing_rule_stores_nothing(make_rig) -> None:
    rig = await make_rig()
    tracker = await rig.start()

    async def refuse(estimate: Decimal) -> None:
        raise Refused("no")

    with pytest.raises(Refused):
        await tracker.create(REQUEST, ORIGIN, check=refuse)
    assert await tracker.recent() == []


async def test_a_held_intake_takes_no_job_until_let_go(make_rig) -> None:
    rig = await make_rig()
    tracker = await rig.start()
    assert tracker.clock.now() == pytest.approx(rig.clock.now(), abs=5.0)
    async with tracker.holding_intake(100):
        creating = asyncio.create_task(tracker.create(REQUEST, ORIGIN))
        await asyncio.sleep(0.05)
        assert not creating.done()
    job = await asyncio.wait_for(creating, 5)
    assert (await rig.job(job.id)).id == job.id
