"""The one schema on both databases: the same tables, columns and indexes on each (with the
types that correspond), every column a job writes is in it; each database is migrated once,
a newer one is refused, and a database a bot of schema version 4 left opens and carries on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.jobs.model import JobState
from bot.store.dialect import POSTGRES, SQLITE
from bot.store.job_rows import COLUMNS
from bot.store.opening import Storage
from bot.store.schema import MIGRATIONS
from bot.store.session_rows import ENTRY_COLUMNS, SESSION_COLUMNS
from tests.bot.jobs.factories import make_job
from tests.bot.store.backends import KINDS, StoreBackend, fresh_backend

Columns = dict[str, tuple[str, bool, str | None]]
"""Column → (type, NOT NULL, default), as one database describes it."""

CORRESPONDING_TYPES = {
    ("TEXT", "TEXT"),
    ("INTEGER", "INTEGER"),
    (SQLITE.big_int, POSTGRES.big_int),
    (SQLITE.real, POSTGRES.real),
}


@pytest.fixture
async def both(request: pytest.FixtureRequest, tmp_path: Path) -> Mapping[str, StoreBackend]:
    """A fresh database of each kind, migrated to the newest schema."""
    server = request.getfixturevalue("postgres_server")
    backends = {kind: await fresh_backend(kind, tmp_path, server) for kind in KINDS}
    for backend in backends.values():
        await (await backend.open()).close()
    return backends


async def _sqlite_columns(backend: StoreBackend, table: str) -> Columns:
    rows = await backend.query(f"PRAGMA table_info({table})")
    return {
        row["name"]: (row["type"], bool(row["notnull"] or row["pk"]), row["dflt_value"])
        for row in rows
    }


async def _pg_columns(backend: StoreBackend, table: str) -> Columns:
    rows = await backend.query(
        "SELECT column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        (table,),
    )
    return {
        row["column_name"]: (
            row["data_type"].upper(),
            row["is_nullable"] == "NO",
            None if row["column_default"] is None else row["column_default"].split("::")[0],
        )
        for row in rows
    }


async def _sqlite_names(backend: StoreBackend, kind: str) -> set[str]:
    rows = await backend.query("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    return {row["name"] for row in rows if not row["name"].startswith("sqlite_")}


async def _pg_tables(backend: StoreBackend) -> set[str]:
    rows = await backend.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {row["tablename"] for row in rows} - {"schema_version"}


async def _pg_indexes(backend: StoreBackend) -> set[str]:
    rows = await backend.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
    return {row["indexname"] for row in rows if not row["indexname"].endswith("_pkey")}


async def test_both_databases_have_the_same_schema(both: Mapping[str, StoreBackend]) -> None:
    sqlite, pg = both["sqlite"], both["postgres"]
    tables = await _sqlite_names(sqlite, "table")
    assert (
        tables
        == await _pg_tables(pg)
        == {
            "jobs",
            "server_settings",
            "blocked_terms",
            "role_tiers",
            "member_blocks",
            "strikes",
            "server_changes",
            "sessions",
            "session_entries",
            "session_votes",
        }
    )
    for table in sorted(tables):
        lite, big = await _sqlite_columns(sqlite, table), await _pg_columns(pg, table)
        assert list(lite) == list(big), f"{table}: the same columns in the same order"
        for name in lite:
            (lite_type, lite_not_null, lite_default) = lite[name]
            (pg_type, pg_not_null, pg_default) = big[name]
            assert (lite_type, pg_type) in CORRESPONDING_TYPES, f"{table}.{name}"
            assert lite_not_null == pg_not_null, f"{table}.{name}"
            assert lite_default == pg_default, f"{table}.{name}"
    only_shared = await _pg_indexes(pg) - await _sqlite_names(sqlite, "index")
    assert only_shared == {"jobs_open_leases"}, "only a shared database indexes the leases"
    assert await _sqlite_names(sqlite, "index") <= await _pg_indexes(pg)


async def _columns(backend: StoreBackend, table: str) -> Columns:
    read = _sqlite_columns if backend.name == "sqlite" else _pg_columns
    return await read(backend, table)


async def test_every_column_a_job_writes_is_in_the_schema(backend: StoreBackend) -> None:
    await (await backend.open()).close()
    retired = {"extra"}
    kept = {"id", *COLUMNS, "lease_owner", "lease_until", *retired}
    assert set(await _columns(backend, "jobs")) == kept


async def test_every_column_a_session_writes_is_in_the_schema(backend: StoreBackend) -> None:
    await (await backend.open()).close()
    assert set(await _columns(backend, "sessions")) == {"id", *SESSION_COLUMNS, "version"}
    assert set(ENTRY_COLUMNS) < set(await _columns(backend, "session_entries"))


async def test_a_new_database_is_migrated_to_the_newest_schema(storage: Storage) -> None:
    assert await storage.schema_version() == len(MIGRATIONS)


async def test_reopening_keeps_jobs_and_does_not_remigrate(backend: StoreBackend) -> None:
    first = await backend.open()
    job = await first.jobs.insert(make_job(0, state=JobState.WAITING))
    await first.close()
    second = await backend.open()
    try:
        assert await second.jobs.get(job.id) == job
        assert await second.schema_version() == len(MIGRATIONS)
    finally:
        await second.close()


async def test_newer_schema_is_refused(backend: StoreBackend) -> None:
    await (await backend.open()).close()
    await backend.set_schema_version(len(MIGRATIONS) + 1)
    with pytest.raises(RuntimeError, match="newer than this bot knows"):
        await backend.open()


_VERSION_4_INSERT = (
    "INSERT INTO jobs (state, is_open, request, requester_id, guild_id, channel_id, "
    "created_at, updated_at, state_times, estimated_cost, notice, extra) "
    "VALUES ('delivered', 0, '{\"prompt\": \"a fox\"}', 7, 8, 9, 100.0, 200.0, "
    "'{\"delivered\": 200.0}', '0.63', 'sent', ?)"
)
"""A job as a bot of schema version 4 wrote it."""


async def test_a_version_4_database_keeps_its_jobs_language_and_deletion(
    backend: StoreBackend,
) -> None:
    await backend.migrate_to(4)
    deleted = '{"locale": "de", "deleted_by": 9223372036854775807, "deleted_at": 300.5}'
    for extra in ("{}", '{"locale": "fr"}', deleted):
        await backend.query(_VERSION_4_INSERT, (extra,))
    storage = await backend.open()
    try:
        assert await storage.schema_version() == len(MIGRATIONS)
        plain, french, gone = [await storage.jobs.get(job_id) for job_id in (1, 2, 3)]
        assert plain is not None
        assert french is not None
        assert gone is not None
        assert (plain.locale, plain.deleted_by, plain.deleted_at) == (None, None, None)
        assert (french.locale, french.deleted_by) == ("fr", None)
        assert (gone.locale, gone.deleted_by, gone.deleted_at) == ("de", 2**63 - 1, 300.5)
        assert gone.request.prompt == "a fox"
        assert gone.entered(gone.state) == 200.0
    finally:
        await storage.close()


async def test_a_bot_of_the_previous_version_can_still_write(backend: StoreBackend) -> None:
    """During a deploy without downtime, processes of schema 4 still write whole rows."""
    storage = await backend.open()
    try:
        await backend.query(_VERSION_4_INSERT, ('{"locale": "de"}',))
        await backend.query("UPDATE jobs SET extra = ?, updated_at = ? WHERE id = 1", ("{}", 5.0))
        job = await storage.jobs.get(1)
        assert job is not None
        assert job.updated_at == 5.0
        newer = await storage.jobs.insert(make_job(0, locale="de"))
        assert (await backend.query("SELECT extra FROM jobs WHERE id = ?", (newer.id,))) == [
            {"extra": "{}"}
        ]
    finally:
        await storage.close()
