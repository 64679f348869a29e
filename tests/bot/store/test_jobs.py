"""The job store, against SQLite and PostgreSQL alike: round trips, open-job queries,
filters, usage, refused writes and the store's recovery from them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.jobs.leases import LeaseLost
from bot.jobs.model import JobOrigin, JobState, NoticeState
from bot.jobs.ports import JobStorage, StoreError
from bot.jobs.usage import UsageRecord
from bot.runcomfy.request import KlingRequest, Shot
from bot.store.opening import Storage
from tests.bot.jobs.factories import make_job
from tests.bot.store.backends import StoreBackend


async def test_round_trip_keeps_every_field(store: JobStorage) -> None:
    request = KlingRequest.parse(
        prompt="two shots",
        negative_prompt="blur",
        duration=8,
        aspect_ratio="9:16",
        cfg_scale=0.7,
        sound=False,
        shot_type="customize",
        multi_prompt=[Shot("first", 3), Shot("second", 5)],
    )
    job = make_job(
        0,
        request=request,
        origin=JobOrigin(requester_id=7, channel_id=8, guild_id=9, upload_limit=25 * 1024 * 1024),
        state=JobState.NEW,
        locale="de",
        deleted_by=2**63 - 1,
        deleted_at=1006.5,
    )
    job = await store.insert(job)
    assert job.id > 0
    job = job.transition(JobState.WAITING, 1001.0, status_message_id=555)
    job = job.transition(JobState.SUBMITTING, 1002.0, submit_attempts=1, deadline_at=2800.0)
    job = job.transition(JobState.QUEUED, 1003.0, request_id="req-abc_1", queue_position=3)
    job = job.transition(JobState.RUNNING, 1004.0)
    job = job.transition(
        JobState.COMPLETED,
        1005.0,
        output_url="https://cdn.example/v.mp4",
        cost=Decimal("0.672"),
        notice=NoticeState.PENDING,
    )
    job = await store.save(job)
    loaded = await store.get(job.id)
    assert loaded == job
    assert loaded.request.multi_prompt == (Shot("first", 3), Shot("second", 5))
    assert loaded.entered(JobState.QUEUED) == 1003.0


async def test_save_of_unknown_job_fails(store: JobStorage) -> None:
    with pytest.raises(KeyError):
        await store.save(make_job(999))


async def test_load_open_skips_finished_jobs_but_keeps_pending_notices(store: JobStorage) -> None:
    waiting = await store.insert(make_job(0, state=JobState.WAITING))
    delivered = await store.insert(make_job(0, state=JobState.DELIVERED, notice=NoticeState.SENT))
    failed_unannounced = await store.insert(
        make_job(0, state=JobState.FAILED, notice=NoticeState.PENDING)
    )
    failed_announced = await store.insert(
        make_job(0, state=JobState.FAILED, notice=NoticeState.SENT)
    )
    open_ids = [job.id for job in await store.load_open()]
    assert open_ids == [waiting.id, failed_unannounced.id]
    await store.save(failed_unannounced.update(2000.0, notice=NoticeState.SENT))
    assert [job.id for job in await store.load_open()] == [waiting.id]
    assert delivered.id not in open_ids
    assert failed_announced.id not in open_ids


async def test_find_filters_and_orders_newest_first(store: JobStorage) -> None:
    a1 = await store.insert(make_job(0, requester_id=1, guild_id=50, at=10.0))
    b1 = await store.insert(make_job(0, requester_id=2, guild_id=50, at=20.0))
    a2 = await store.insert(
        make_job(0, requester_id=1, guild_id=60, at=30.0, state=JobState.FAILED)
    )
    assert [j.id for j in await store.find(requester_id=1)] == [a2.id, a1.id]
    assert [j.id for j in await store.find(guild_id=50)] == [b1.id, a1.id]
    assert [j.id for j in await store.find(states=[JobState.FAILED])] == [a2.id]
    assert [j.id for j in await store.find(since=15.0)] == [a2.id, b1.id]
    assert [j.id for j in await store.find(limit=1)] == [a2.id]


async def test_request_ids_are_unique(store: JobStorage) -> None:
    await store.insert(make_job(0, request_id="same"))
    with pytest.raises(StoreError):
        await store.insert(make_job(0, request_id="same"))


async def test_usage_records_read_only_what_usage_needs(store: JobStorage) -> None:
    default_length = make_job(0, request=KlingRequest(prompt="no duration"), guild_id=1, at=50.0)
    jobs = [
        await store.insert(default_length),
        await store.insert(make_job(0, requester_id=2, guild_id=1, at=60.0, cost=Decimal("0.5"))),
        await store.insert(make_job(0, guild_id=1, at=10.0)),
        await store.insert(make_job(0, guild_id=2, at=70.0)),
    ]
    records = await store.usage_records(since=40.0, guild_id=1)
    assert sorted(records, key=lambda r: r.created_at) == [
        UsageRecord.of(jobs[0]),
        UsageRecord.of(jobs[1]),
    ]
    mine = await store.usage_records(since=0.0, guild_id=None, requester_id=2)
    assert mine == [UsageRecord.of(jobs[1])]


async def test_closed_store_refuses_calls(backend: StoreBackend) -> None:
    storage = await backend.open()
    await storage.close()
    with pytest.raises(RuntimeError, match="closed"):
        await storage.jobs.get(1)


async def test_discord_sized_ids_and_missing_jobs(store: JobStorage) -> None:
    big = 2**63 - 1
    origin = JobOrigin(requester_id=big, channel_id=big - 1, guild_id=big - 2)
    job = await store.insert(make_job(0, origin=origin, status_message_id=big - 3))
    assert await store.get(job.id) == job
    assert [j.id for j in await store.find(requester_id=big)] == [job.id]
    assert await store.get(job.id + 1000) is None


async def test_find_with_no_states_or_no_limit(store: JobStorage) -> None:
    jobs = [await store.insert(make_job(0, at=float(n))) for n in range(30)]
    assert await store.find(states=[]) == []
    assert len(await store.find(limit=None)) == len(jobs)
    assert len(await store.find()) == 25


async def test_a_child_job_must_name_an_existing_parent(store: JobStorage) -> None:
    parent = await store.insert(make_job(0))
    child = await store.insert(make_job(0, parent_id=parent.id))
    assert (await store.get(child.id)).parent_id == parent.id
    with pytest.raises(StoreError):
        await store.insert(make_job(0, parent_id=parent.id + 1000))


async def test_refused_writes_are_store_errors_and_the_store_recovers(
    backend: StoreBackend, storage: Storage
) -> None:
    kept = await storage.jobs.insert(make_job(0, state=JobState.WAITING))
    await backend.refuse_writes(storage, True)
    for _ in range(3):
        with pytest.raises(StoreError):
            await storage.jobs.insert(make_job(0))
    await backend.refuse_writes(storage, False)
    inserted = None
    for _ in range(3):
        try:
            inserted = await storage.jobs.insert(make_job(0))
            break
        except StoreError:
            continue
    assert inserted is not None
    assert [job.id for job in await storage.jobs.load_open()] == [kept.id, inserted.id]


async def test_a_stale_copy_cannot_overwrite_a_later_write(store: JobStorage) -> None:
    """Every write names the version it was made from: a copy read before another write
    landed is refused (as a lost lease is), whatever the database."""
    job = await store.insert(make_job(0, state=JobState.WAITING))
    newer = await store.save(job.transition(JobState.SUBMITTING, 1_001.0, submit_attempts=1))
    assert newer.version == job.version + 1
    with pytest.raises(LeaseLost):
        await store.save(job.transition(JobState.CANCELLED, 1_002.0))
    stored = await store.get(job.id)
    assert stored == newer
    assert (await store.save(newer.update(1_003.0, queue_position=2))).version == newer.version + 1
