"""What each server changed with `/video settings`, kept in the database and in memory.

One row per (server, setting) holds the value as JSON (`SPECS` says how); a missing row
means the `.env` default applies. Everything is cached in memory, so the hot paths (the
waiting line asks for limits on every release) never wait for the database (SQLite
or PostgreSQL, see `bot.storage`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.db import Database
from bot.pg import PgDatabase, numbered
from bot.server_settings import SPECS, ServerSettings, Setting, Source

if TYPE_CHECKING:
    from bot.storage import SettingsStorage

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


class ServerSettingsRegistry:
    """The effective settings of every server, in memory, written through to the store."""

    def __init__(
        self, store: SettingsStorage, defaults: ServerSettings, now: Callable[[], float]
    ) -> None:
        self._store = store
        self.defaults = defaults
        self._now = now
        self._overrides: dict[int, dict[Setting, Any]] = {}

    async def load(self) -> None:
        self._overrides = await self._store.load_all()

    def get(self, guild_id: int | None) -> ServerSettings:
        overrides = self._overrides.get(guild_id, {}) if guild_id is not None else {}
        if not overrides:
            return self.defaults
        values = {SPECS[setting].attribute: value for setting, value in overrides.items()}
        return replace(self.defaults, **values, sources=dict.fromkeys(overrides, Source.SERVER))

    async def set(self, guild_id: int, setting: Setting, value: Any, *, by: int) -> ServerSettings:
        """Check the value against the table, store it, and return the server's settings.
        Raises `SettingValueError` (nothing changed) when the value is not allowed."""
        value = SPECS[setting].check(value)
        await self._store.put(guild_id, setting, value, by=by, at=self._now())
        self._overrides.setdefault(guild_id, {})[setting] = value
        return self.get(guild_id)

    async def reset(self, guild_id: int, settings: Iterable[Setting]) -> ServerSettings:
        for setting in settings:
            await self._store.delete(guild_id, setting)
            self._overrides.get(guild_id, {}).pop(setting, None)
        return self.get(guild_id)
