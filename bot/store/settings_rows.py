"""What each server changed with `/video settings`, kept in the database and in memory.

One row per (server, setting) holds the value as JSON (`SPECS` says how); a missing row
means the `.env` default applies. Everything is cached in memory, so the hot paths (the
waiting line asks for limits on every release) never wait for the database (SQLite
or PostgreSQL, see `bot.store.opening`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bot.server_settings import SPECS, Setting
from bot.store.postgres import PgDatabase, numbered
from bot.store.sqlite import Database

if TYPE_CHECKING:
    pass

_UPSERT = (
    "INSERT INTO server_settings (guild_id, key, value, updated_by, updated_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, key) DO UPDATE SET "
    "value = excluded.value, updated_by = excluded.updated_by, "
    "updated_at = excluded.updated_at"
)
_DELETE = "DELETE FROM server_settings WHERE guild_id = ? AND key = ?"


def _decode(rows: Iterable[Any]) -> dict[int, dict[Setting, Any]]:
    """Stored rows → each server's changed settings; unknown keys (a newer bot's) are skipped."""
    found: dict[int, dict[Setting, Any]] = {}
    for row in rows:
        try:
            setting = Setting(row["key"])
        except ValueError:
            continue
        value = SPECS[setting].from_json(json.loads(row["value"]))
        found.setdefault(row["guild_id"], {})[setting] = value
    return found


def _encode(setting: Setting, value: Any) -> str:
    return json.dumps(SPECS[setting].to_json(value))


class ServerSettingsStore:
    """Rows of (server, setting) → JSON value in SQLite; a missing row means the default."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load_all(self) -> dict[int, dict[Setting, Any]]:
        def load(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute("SELECT guild_id, key, value FROM server_settings").fetchall()

        return _decode(await self._db.run(load))

    async def put(self, guild_id: int, setting: Setting, value: Any, *, by: int, at: float) -> None:
        params = (guild_id, setting.value, _encode(setting, value), by, at)

        def put(conn: sqlite3.Connection) -> None:
            conn.execute(_UPSERT, params)

        await self._db.run(put)

    async def delete(self, guild_id: int, setting: Setting) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute(_DELETE, (guild_id, setting.value))

        await self._db.run(delete)


class PgServerSettingsStore:
    """The same rows in PostgreSQL."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def load_all(self) -> dict[int, dict[Setting, Any]]:
        async def load(conn: Any) -> list[Any]:
            rows: list[Any] = await conn.fetch("SELECT guild_id, key, value FROM server_settings")
            return rows

        return _decode(await self._db.run(load))

    async def put(self, guild_id: int, setting: Setting, value: Any, *, by: int, at: float) -> None:
        params = (guild_id, setting.value, _encode(setting, value), by, at)

        async def put(conn: Any) -> None:
            await conn.execute(numbered(_UPSERT), *params)

        await self._db.run(put)

    async def delete(self, guild_id: int, setting: Setting) -> None:
        async def delete(conn: Any) -> None:
            await conn.execute(numbered(_DELETE), guild_id, setting.value)

        await self._db.run(delete)
