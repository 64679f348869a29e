"""The two databases the shared store tests run against, opened the way the bot opens them:
a DATABASE_URL, `load_settings`, then `bot.store.opening.open_storage`; and a way to reach
each one beside the bot's store (to set it up as an older bot left it, or read its schema)."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bot.config import Settings, load_settings
from bot.store import postgres, sqlite
from bot.store.dialect import POSTGRES, SQLITE, Dialect
from bot.store.opening import Storage, open_storage
from bot.store.schema import render
from testkit.postgres import PostgresServer

KINDS = ("sqlite", "postgres")

_database_numbers = itertools.count(1)


@dataclass(frozen=True)
class StoreBackend:
    name: str
    url: str
    base_dir: Path

    @property
    def dialect(self) -> Dialect:
        return SQLITE if self.name == "sqlite" else POSTGRES

    def settings(self) -> Settings:
        env = {"RUNCOMFY_API_TOKEN": "token", "DATABASE_URL": self.url}
        return load_settings(env, need_discord=False, base_dir=self.base_dir)

    async def open(self) -> Storage:
        return await open_storage(self.settings())

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """One statement (`?` placeholders) on a connection of its own; its rows."""
        settings = self.settings()
        if settings.postgres is None:
            settings.database_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(settings.database_path)
            conn.row_factory = sqlite3.Row
            try:
                with conn:
                    return [dict(row) for row in conn.execute(sql, params)]
            finally:
                conn.close()
        conn = await asyncpg.connect(settings.postgres.dsn.reveal())
        try:
            return [dict(row) for row in await conn.fetch(self.dialect.sql(sql), *params)]
        finally:
            await conn.close()

    async def migrate_to(self, version: int) -> None:
        """Leave the database as a bot of schema `version` would have."""
        migrations = render(self.dialect)[:version]
        settings = self.settings()
        if settings.postgres is None:
            settings.database_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(settings.database_path, isolation_level=None)
            try:
                sqlite.migrate(conn, migrations)
            finally:
                conn.close()
            return
        pg = await asyncpg.connect(settings.postgres.dsn.reveal())
        try:
            await postgres.migrate(pg, migrations)
        finally:
            await pg.close()

    async def refuse_writes(self, storage: Storage, refuse: bool) -> None:
        """Make the database refuse (or take again) the store's writes; PostgreSQL also
        drops every connection to it, as a server restarting read-only would."""
        if self.name == "sqlite":
            pragma = f"PRAGMA query_only = {int(refuse)}"
            await storage.jobs.db.run(lambda conn: conn.execute(pragma))
            return
        postgres = self.settings().postgres
        assert postgres is not None
        server, name = postgres.dsn.reveal().rsplit("/", 1)
        conn = await asyncpg.connect(f"{server}/postgres")
        try:
            switch = "on" if refuse else "off"
            await conn.execute(
                f"ALTER DATABASE {name} SET default_transaction_read_only = {switch}"
            )
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
        finally:
            await conn.close()

    async def set_schema_version(self, version: int) -> None:
        """Pretend a newer (or older) bot migrated this database last."""
        if self.name == "sqlite":
            await self.query(f"PRAGMA user_version = {version}")
        else:
            await self.query("UPDATE schema_version SET version = ?", (version,))


async def fresh_backend(kind: str, tmp_path: Path, server: PostgresServer | None) -> StoreBackend:
    """A fresh, empty database of one kind (a new database on the shared server)."""
    if kind == "sqlite":
        return StoreBackend("sqlite", f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}", tmp_path)
    assert server is not None
    name = f"store_test_{next(_database_numbers)}"
    conn = await asyncpg.connect(server.dsn())
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    return StoreBackend("postgres", server.dsn(name), tmp_path)
