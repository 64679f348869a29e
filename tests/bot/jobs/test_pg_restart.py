"""Two trackers sharing a PostgreSQL server that restarts, again and again, while jobs are
under way: every connection (the pools, the peers' LISTEN connections, the lease keepers')
is re-established, new commands are taken again as soon as the server takes writes, and
nothing is lost or sent twice. The server is this module's own, so restarting it disturbs
no other test."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.jobs.line import NotTakingJobs
from bot.jobs.model import JobState
from bot.jobs.tracker import CancelOutcomeKind
from testkit.postgres import PostgresServer, create_database
from testkit.waiting import eventually
from tests.bot.jobs.shared_world import Process, World, open_world, submit
from tests.conftest import serve_postgres

ROUNDS = 20
TAKEN_WITHIN = 5.0
"""Real seconds from the server being back to a new command being taken."""
PEER_TIMEOUT = 5.0
"""Real seconds a process waits for a peer's answer (`TrackerSettings.peer_timeout`)."""


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """This module's own server, so restarting it disturbs no other test."""
    yield from serve_postgres()


@pytest.fixture
async def world(server: PostgresServer) -> AsyncIterator[World]:
    async with open_world(await create_database(server, "restarts")) as world:
        yield world


async def _taken(process: Process, prompt: str, user: int) -> int:
    """A new command, sent again while it is refused (the server is still starting)."""
    deadline = time.monotonic() + TAKEN_WITHIN
    while True:
        try:
            return await submit(process, prompt, user=user)
        except NotTakingJobs:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_restarts_of_the_database_lose_nothing_and_send_nothing_twice(
    world: World, server: PostgresServer
) -> None:
    first = await world.make("first")
    second = await world.make("second")
    processes = (first, second)
    busy = await submit(first, "endless, generating through every restart", user=99)
    jobs = []
    for round_number in range(ROUNDS):
        process = processes[round_number % 2]
        jobs.append(await _taken(process, f"round {round_number}", user=round_number % 7))
        await asyncio.sleep((round_number % 5) * 0.08)
        await asyncio.to_thread(server.restart)
        await eventually(
            lambda: all(p.tracker.store_writable() for p in processes),
            within=TAKEN_WITHIN,
            what="every process to find the server takes writes again",
        )

    holder, other = (first, second) if first.tracker.get(busy) else (second, first)
    assert holder.tracker.get(busy) is not None, "someone holds the busy job"

    async def answered() -> bool:
        report = await other.tracker.cancel(busy, by=99)
        return report.outcome is CancelOutcomeKind.ALREADY_RUNNING

    deadline = time.monotonic() + 3 * PEER_TIMEOUT
    while not await answered():
        assert time.monotonic() < deadline, "the holder answers peers again (LISTEN is back)"
        await asyncio.sleep(0.1)

    for job_id in jobs:
        await eventually(
            lambda job_id=job_id: job_id in world.notifier.posted,
            within=60.0,
            what=f"job {job_id} to be settled and its member told",
        )
    states = {job_id: (await first.store.get(job_id)) for job_id in jobs}
    sent = world.submits_per_prompt()
    assert max(sent.values()) == 1, "nothing was sent twice"
    for job_id, job in states.items():
        assert job is not None
        paid = sent[job.request.prompt] == 1
        if paid:
            assert job.state is JobState.DELIVERED, (job_id, job.state, job.failure)
        else:
            assert job.state is JobState.SUBMISSION_UNKNOWN, (job_id, job.state, job.failure)
    outcomes = Counter(job.state for job in states.values() if job is not None)
    assert outcomes[JobState.DELIVERED] >= len(jobs) - 2, outcomes
    assert sum(len(world.notifier.calls_for(job_id)) > 0 for job_id in jobs) == len(jobs)
