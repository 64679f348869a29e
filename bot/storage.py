"""What the bot needs from its database, and the one place that picks SQLite or PostgreSQL.

The tracker, the intake and the settings registry only see `JobStorage` and
`SettingsStorage`; a refused read or write surfaces as `bot.db.StoreError` from either
backend, which is what the tracker's retry and health reporting rely on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

from bot.config import ConfigError, Settings
from bot.db import Database
from bot.jobs.leases import JobLeases, LocalLeases, Room
from bot.jobs.model import Job, JobState
from bot.jobs.peers import JobPeers, NoPeers
from bot.jobs.pg_leases import PgLeases
from bot.jobs.pg_peers import PgPeers
from bot.jobs.pg_store import PgJobStore
from bot.jobs.store import JobStore
from bot.jobs.usage import UsageRecord
from bot.pg import PgDatabase
from bot.server_settings import Setting
from bot.server_settings_store import PgServerSettingsStore, ServerSettingsStore
from bot.sharding import ShardSet


class JobStorage(Protocol):
    """Jobs, row by row. `save` raises `KeyError` for a job that was never inserted."""

    async def insert(self, job: Job) -> Job: ...

    async def save(self, job: Job) -> None: ...

    async def save_if_room(self, job: Job, room: Room) -> bool: ...

    async def get(self, job_id: int) -> Job | None: ...

    async def load_open(self) -> list[Job]: ...

    async def open_counts(self, requester_id: int, guild_id: int | None) -> tuple[int, int]: ...

    def intake_lock(self, guild_id: int | None) -> AbstractAsyncContextManager[None]: ...

    async def find(
        self,
        *,
        requester_id: int | None = None,
        guild_id: int | None = None,
        states: Iterable[JobState] | None = None,
        since: float | None = None,
        limit: int | None = 25,
    ) -> list[Job]: ...

    async def usage_records(
        self, *, since: float, guild_id: int | None, requester_id: int | None = None
    ) -> list[UsageRecord]: ...


class SettingsStorage(Protocol):
    """Rows of (server, setting) → value; a missing row means the default applies."""

    async def load_all(self) -> dict[int, dict[Setting, Any]]: ...

    async def put(
        self, guild_id: int, setting: Setting, value: Any, *, by: int, at: float
    ) -> None: ...

    async def delete(self, guild_id: int, setting: Setting) -> None: ...


@dataclass(frozen=True, slots=True)
class Storage:
    """Both stores on one database, this process's job leases and its peers (the other
    processes sharing the jobs), the schema version, and how to close it."""

    jobs: JobStorage
    settings: SettingsStorage
    leases: JobLeases
    peers: JobPeers
    schema_version: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]


_CANNOT_OPEN = (OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)


async def open_storage(settings: Settings, *, shards: ShardSet | None = None) -> Storage:
    """Open (and migrate) the database DATABASE_URL names. One that cannot be opened is a
    `ConfigError` naming the file or host:port/database, never the password. On PostgreSQL
    this process prefers the jobs of the servers of its `shards`."""
    try:
        if settings.postgres is not None:
            pg = await PgDatabase.open(settings.postgres.dsn.reveal())
            jobs = PgJobStore(pg, lease_seconds=settings.postgres.lease_seconds)
            leases = PgLeases(jobs, shards=shards)
            settings_store = PgServerSettingsStore(pg)
            peers = PgPeers(pg, name=jobs.owner)
            return Storage(jobs, settings_store, leases, peers, pg.schema_version, pg.close)
        db = await Database.open(settings.database_path)
    except _CANNOT_OPEN as error:
        where = settings.postgres.where if settings.postgres else settings.database_path
        problem = f"points to {where}, which cannot be opened: {error}"
        raise ConfigError("DATABASE_URL", problem) from error
    job_store = JobStore(db)
    return Storage(
        job_store,
        ServerSettingsStore(db),
        LocalLeases(job_store),
        NoPeers(),
        db.schema_version,
        db.close,
    )
