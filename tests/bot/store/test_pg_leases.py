"""Job leases on a shared PostgreSQL database: who may write a job, who takes it over when
its holder stops renewing, which process is preferred, and limits decided across processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest

from bot.jobs.leases import LeaseLost, Room
from bot.jobs.line import ServerLimits
from bot.jobs.model import Job, JobState, NoticeState
from bot.sharding import ShardSet
from bot.store.pg_jobs import PgJobStore
from bot.store.pg_leases import PgLeases
from bot.store.postgres import PgDatabase
from tests.bot.jobs.factories import make_job
from tests.bot.store.backends import StoreBackend

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

LEASE = 0.4
"""Real seconds; short, so that expiry is quick to wait for."""

SHARD0_GUILD = 0 << 22
SHARD1_GUILD = 1 << 22
"""Server ids that fall on shard 0 and shard 1 of two."""

Process = tuple[PgJobStore, PgLeases]
OpenProcess = Callable[..., Awaitable[Process]]


@pytest.fixture
async def process(backend: StoreBackend) -> AsyncIterator[OpenProcess]:
    """Open one "process": its own pool, its own name, its own leases."""
    postgres = backend.settings().postgres
    assert postgres is not None
    opened: list[PgDatabase] = []

    async def open_process(name: str, *, shards: ShardSet | None = None) -> Process:
        db = await PgDatabase.open(postgres.dsn.reveal())
        opened.append(db)
        store = PgJobStore(db, owner=name, lease_seconds=LEASE)
        return store, PgLeases(store, shards=shards)

    yield open_process
    for db in opened:
        await db.close()


async def test_a_job_is_written_only_by_the_process_that_holds_it(process: OpenProcess) -> None:
    (store_a, leases_a), (store_b, _) = await process("a"), await process("b")
    job = await store_a.insert(make_job(0, state=JobState.WAITING))
    await store_a.save(replace(job, updated_at=2_000.0))
    with pytest.raises(LeaseLost) as lost:
        await store_b.save(replace(job, updated_at=3_000.0))
    assert lost.value.holder == "a"
    assert await leases_a.renew([job.id]) == {job.id}
    stored = await store_a.get(job.id)
    assert stored is not None
    assert stored.updated_at == 2_000.0


async def test_a_live_holder_keeps_its_jobs(process: OpenProcess) -> None:
    (store_a, leases_a), (_, leases_b) = await process("a"), await process("b")
    job = await store_a.insert(make_job(0, state=JobState.QUEUED))
    for _ in range(4):
        await asyncio.sleep(LEASE / 3)
        assert await leases_a.renew([job.id]) == {job.id}
        assert await leases_b.claim(limit=10) == []


async def test_jobs_of_a_process_that_stopped_renewing_are_taken_over(
    process: OpenProcess,
) -> None:
    (store_a, leases_a), (store_b, leases_b) = await process("a"), await process("b")
    first = await store_a.insert(make_job(0, state=JobState.QUEUED, request_id="r-1"))
    second = await store_a.insert(make_job(0, state=JobState.WAITING))
    await asyncio.sleep(LEASE * 1.2)
    taken = await leases_b.claim(limit=10)
    assert [job.id for job in taken] == [first.id, second.id]
    assert taken[0].request_id == "r-1"
    assert await leases_a.renew([first.id, second.id]) == set()
    with pytest.raises(LeaseLost):
        await store_a.save(replace(first, updated_at=5_000.0))
    await store_b.save(replace(first, updated_at=5_000.0))


async def test_a_process_prefers_the_servers_of_its_own_shards(process: OpenProcess) -> None:
    store_a, _ = await process("a", shards=ShardSet.of(2, [0]))
    _, leases_b = await process("b", shards=ShardSet.of(2, [1]))
    theirs = await store_a.insert(make_job(0, state=JobState.QUEUED, guild_id=SHARD0_GUILD))
    mine = await store_a.insert(make_job(0, state=JobState.QUEUED, guild_id=SHARD1_GUILD))
    await asyncio.sleep(LEASE * 1.2)
    assert [job.id for job in await leases_b.claim(limit=10)] == [mine.id]
    await asyncio.sleep(LEASE / 2)
    assert await leases_b.renew([mine.id]) == {mine.id}
    await asyncio.sleep(LEASE / 2)
    assert [job.id for job in await leases_b.claim(limit=10)] == [theirs.id]


async def test_a_row_the_process_let_go_of_runs_out_and_is_taken_up_again(
    process: OpenProcess,
) -> None:
    store, leases = await process("a")
    dropped = await store.insert(make_job(0, state=JobState.NEW))
    kept = await store.insert(make_job(0, state=JobState.WAITING))
    await asyncio.sleep(LEASE / 2)
    assert await leases.renew([kept.id]) == {kept.id}
    await asyncio.sleep(LEASE * 0.7)
    assert [job.id for job in await leases.claim(limit=10)] == [dropped.id]


async def test_a_clean_shutdown_hands_jobs_over_at_once(process: OpenProcess) -> None:
    (store_a, leases_a), (_, leases_b) = await process("a"), await process("b")
    job = await store_a.insert(make_job(0, state=JobState.RUNNING, request_id="r-2"))
    await leases_a.let_go()
    assert [taken.id for taken in await leases_b.claim(limit=10)] == [job.id]


async def test_a_finished_job_has_no_holder_and_anyone_may_annotate_it(
    process: OpenProcess,
) -> None:
    (store_a, leases_a), (store_b, leases_b) = await process("a"), await process("b")
    job = await store_a.insert(make_job(0, state=JobState.COMPLETED, output_url="https://x/v"))
    done = job.transition(JobState.DELIVERED, 2_000.0, notice=NoticeState.SENT)
    done = await store_a.save(done)
    assert await leases_a.renew([job.id]) == set()
    await store_b.save(replace(done, deleted_by=5))
    stored = await store_a.get(job.id)
    assert stored is not None
    assert stored.deleted_by == 5
    await asyncio.sleep(LEASE * 2.2)
    assert await leases_b.claim(limit=10) == []


async def test_limits_at_runcomfy_are_decided_across_processes(process: OpenProcess) -> None:
    (store_a, _), (store_b, _) = await process("a"), await process("b")
    room = Room(ServerLimits(per_user=1, per_server=2), total=3)
    one = await store_a.insert(make_job(0, state=JobState.WAITING, requester_id=1))
    same_member = await store_b.insert(make_job(0, state=JobState.WAITING, requester_id=1))
    other_member = await store_b.insert(make_job(0, state=JobState.WAITING, requester_id=2))
    third_member = await store_b.insert(make_job(0, state=JobState.WAITING, requester_id=3))
    elsewhere = await store_b.insert(
        make_job(0, state=JobState.WAITING, requester_id=4, guild_id=555)
    )
    last = await store_a.insert(make_job(0, state=JobState.WAITING, requester_id=6, guild_id=556))

    def submitting(job: Job) -> Job:
        return job.transition(JobState.SUBMITTING, 2_000.0)

    assert await store_a.save_if_room(submitting(one), room)
    assert not await store_b.save_if_room(submitting(same_member), room)
    assert await store_b.save_if_room(submitting(other_member), room)
    assert not await store_b.save_if_room(submitting(third_member), room)
    assert await store_b.save_if_room(submitting(elsewhere), room)
    assert not await store_a.save_if_room(submitting(last), room)
    refused = await store_b.get(same_member.id)
    assert refused is not None
    assert refused.state is JobState.WAITING


async def test_two_processes_admitting_at_once_never_pass_a_limit(process: OpenProcess) -> None:
    processes = [await process(name) for name in ("a", "b", "c", "d")]
    room = Room(ServerLimits(per_user=50, per_server=50), total=5)
    jobs = [
        (store, await store.insert(make_job(0, state=JobState.WAITING, requester_id=n)))
        for n, (store, _) in enumerate(processes * 5)
    ]
    admitted = await asyncio.gather(
        *(
            store.save_if_room(job.transition(JobState.SUBMITTING, 2_000.0), room)
            for store, job in jobs
        )
    )
    assert sum(job is not None for job in admitted) == 5


async def test_a_stale_holder_cannot_reopen_a_job_another_process_finished(
    process: OpenProcess,
) -> None:
    """The old holder's lease ran out while it stalled; the new holder delivered the job
    (its row has no holder once finished). The old holder's copy, written late, is refused
    and the job stays delivered."""
    (store_a, leases_a), (store_b, leases_b) = await process("a"), await process("b")
    running = await store_a.insert(make_job(0, state=JobState.RUNNING, request_id="r-3"))
    await asyncio.sleep(LEASE * 1.2)
    [taken] = await leases_b.claim(limit=10)
    done = taken.transition(JobState.COMPLETED, 2_000.0, output_url="https://x/v")
    done = await store_b.save(done.update(2_001.0, notice=NoticeState.PENDING))
    done = await store_b.save(done.transition(JobState.DELIVERED, 2_002.0, notice=NoticeState.SENT))
    assert await leases_a.renew([running.id]) == set()

    late = running.transition(JobState.COMPLETED, 2_003.0, output_url="https://x/v")
    for stale in (running.update(2_003.0, queue_position=None), late):
        with pytest.raises(LeaseLost):
            await store_a.save(stale)
    stored = await store_b.get(running.id)
    assert stored is not None
    assert stored.state is JobState.DELIVERED
    assert stored.notice is NoticeState.SENT
    assert await leases_a.claim(limit=10) == [], "nothing was reopened"
