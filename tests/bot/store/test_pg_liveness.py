"""Liveness on a shared PostgreSQL database: a process whose session is gone has its jobs
taken over at once, whatever their lease says; a live one keeps them; the lease stays the
fallback for a holder that is alive but stopped renewing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.jobs.model import JobState
from bot.sharding import ShardSet
from bot.store.pg_jobs import PgJobStore
from bot.store.pg_leases import TAKEOVER_CHECK_SECONDS, PgLeases
from bot.store.pg_liveness import LIVENESS_CLASS, PgLiveness, name_key
from bot.store.postgres import PgDatabase
from tests.bot.jobs.factories import make_job
from tests.bot.store.backends import StoreBackend

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

LONG_LEASE = 60.0
SHARD0_GUILD = 0 << 22
SHARD1_GUILD = 1 << 22


@dataclass
class Process:
    name: str
    store: PgJobStore
    leases: PgLeases
    liveness: PgLiveness


OpenProcess = Callable[..., Awaitable[Process]]


@pytest.fixture
async def process(backend: StoreBackend) -> AsyncIterator[OpenProcess]:
    """One "process" the way the bot opens it: its pool, its name, its liveness lock."""
    postgres = backend.settings().postgres
    assert postgres is not None
    opened: list[tuple[PgLiveness, PgDatabase]] = []

    async def open_process(
        name: str, *, lease: float = LONG_LEASE, shards: ShardSet | None = None
    ) -> Process:
        db = await PgDatabase.open(postgres.dsn.reveal())
        liveness = PgLiveness(db, name=name)
        await liveness.start()
        opened.append((liveness, db))
        store = PgJobStore(db, owner=name, lease_seconds=lease)
        return Process(name, store, PgLeases(store, shards=shards, liveness=liveness), liveness)

    yield open_process
    for liveness, db in opened:
        await liveness.close()
        await db.close()


async def terminate_session_of(backend: StoreBackend, name: str) -> int:
    """End the database session holding `name`'s liveness lock, as a dropped connection
    or a dead process would; how many sessions were ended."""
    rows = await backend.query(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_locks "
        f"WHERE locktype = 'advisory' AND classid = {LIVENESS_CLASS} AND objsubid = 2 "
        f"AND objid::bigint = (SELECT {name_key('?')})",
        (name,),
    )
    return int(rows[0]["n"])


async def test_a_gone_process_jobs_are_taken_over_at_once_whatever_their_shard(
    process: OpenProcess,
) -> None:
    a = await process("host:1:a", shards=ShardSet.of(2, [0]))
    b = await process("host:2:b", shards=ShardSet.of(2, [1]))
    own = await a.store.insert(make_job(0, state=JobState.QUEUED, guild_id=SHARD0_GUILD))
    other = await a.store.insert(make_job(0, state=JobState.WAITING, guild_id=SHARD1_GUILD))
    assert await b.leases.claim(limit=10) == [], "a live holder keeps its jobs"

    await a.liveness.close()
    taken = await b.leases.claim(limit=10)
    assert [job.id for job in taken] == [own.id, other.id]
    assert await a.leases.renew([own.id, other.id]) == set()


async def test_a_dropped_session_is_seen_and_the_process_takes_its_lock_again(
    process: OpenProcess, backend: StoreBackend
) -> None:
    a, b = await process("host:1:a"), await process("host:2:b")
    first = await a.store.insert(make_job(0, state=JobState.RUNNING, request_id="r-1"))
    assert await terminate_session_of(backend, a.name) == 1
    assert [job.id for job in await b.leases.claim(limit=10)] == [first.id]

    await a.leases.claim(limit=10)
    second = await a.store.insert(make_job(0, state=JobState.QUEUED, request_id="r-2"))
    await asyncio.sleep(0.1)
    assert await b.leases.claim(limit=10) == [], "alive again: its new job is its own"
    assert await a.leases.renew([second.id]) == {second.id}


async def test_renewing_notices_a_dropped_session_too(
    process: OpenProcess, backend: StoreBackend
) -> None:
    a, b = await process("host:1:a"), await process("host:2:b")
    job = await a.store.insert(make_job(0, state=JobState.QUEUED))
    await terminate_session_of(backend, a.name)
    await asyncio.sleep(0.1)
    assert await a.leases.renew([job.id]) == {job.id}
    assert await b.leases.claim(limit=10) == []


async def test_a_live_holder_that_stopped_renewing_loses_its_jobs_by_lease(
    process: OpenProcess,
) -> None:
    """Alive but cut off: its lock is held, so only the lease says it is gone."""
    a = await process("host:1:a", lease=0.4)
    b = await process("host:2:b", lease=0.4)
    job = await a.store.insert(make_job(0, state=JobState.QUEUED))
    assert await b.leases.claim(limit=10) == []
    await asyncio.sleep(0.5)
    assert [taken.id for taken in await b.leases.claim(limit=10)] == [job.id]


async def test_with_liveness_the_take_over_is_looked_for_every_second(
    process: OpenProcess,
) -> None:
    a = await process("host:1:a", lease=15.0)
    assert a.leases.interval == 5.0
    assert a.leases.claim_interval == TAKEOVER_CHECK_SECONDS == 1.0
    no_liveness = PgLeases(a.store)
    assert no_liveness.claim_interval == no_liveness.interval
