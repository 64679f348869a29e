"""What the bot needs from its database, and the one place that picks SQLite or PostgreSQL.

The tracker, the intake and the settings registry only see `JobStorage` and
`SettingsStorage`; a refused read or write surfaces as `bot.jobs.ports.StoreError` from either
backend, which is what the tracker's retry and health reporting rely on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from bot.config import ConfigError, Settings
from bot.jobs.leases import JobLeases, LocalLeases
from bot.jobs.peers import JobPeers, NoPeers
from bot.jobs.ports import JobStorage, StoreError
from bot.policy.book import NoNews, PolicyStorage, ServerNews
from bot.server_settings_registry import SettingsStorage
from bot.sessions.ports import SessionStorage
from bot.sharding import ShardSet
from bot.store.pg_jobs import PgJobStore
from bot.store.pg_leases import PgLeases
from bot.store.pg_liveness import PgLiveness
from bot.store.pg_news import PgNews
from bot.store.pg_peers import PgPeers
from bot.store.pg_sessions import PgSessionStore
from bot.store.policy_rows import PolicyStore
from bot.store.postgres import PgDatabase
from bot.store.settings_rows import ServerSettingsStore
from bot.store.sqlite import Database
from bot.store.sqlite_jobs import JobStore
from bot.store.sqlite_sessions import SqliteSessionStore


@dataclass(frozen=True, slots=True)
class Storage:
    """The stores on one database (jobs, settings, servers' policy, prompt sessions), this
    process's job
    leases and its peers (the other processes sharing the jobs), the schema version, and
    how to close it."""

    jobs: JobStorage
    settings: SettingsStorage
    leases: JobLeases
    peers: JobPeers
    schema_version: Callable[[], Awaitable[int]]
    close: Callable[[], Awaitable[None]]
    policy: PolicyStorage
    news: ServerNews
    """How the other processes hear that a server's settings or policy changed."""
    sessions: SessionStorage


_CANNOT_OPEN = (
    OSError,
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    StoreError,
)


async def open_storage(settings: Settings, *, shards: ShardSet | None = None) -> Storage:
    """Open (and migrate) the database DATABASE_URL names. One that cannot be opened is a
    `ConfigError` naming the file or host:port/database, never the password. On PostgreSQL
    this process prefers the jobs of the servers of its `shards`."""
    try:
        if settings.postgres is not None:
            pg = await PgDatabase.open(settings.postgres.dsn.reveal())
            jobs = PgJobStore(pg, lease_seconds=settings.postgres.lease_seconds)
            liveness = PgLiveness(pg, name=jobs.owner)
            try:
                await liveness.start()
            except BaseException:
                await pg.close()
                raise
            leases = PgLeases(jobs, shards=shards, liveness=liveness)
            settings_store = ServerSettingsStore(pg)
            peers = PgPeers(pg, name=jobs.owner)
            news = PgNews(pg, name=jobs.owner)

            async def close() -> None:
                await liveness.close()
                await pg.close()

            return Storage(
                jobs,
                settings_store,
                leases,
                peers,
                pg.schema_version,
                close,
                PolicyStore(pg),
                news,
                PgSessionStore(pg),
            )
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
        PolicyStore(db),
        NoNews(),
        SqliteSessionStore(db),
    )
