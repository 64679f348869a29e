"""What each server changed with `/video settings`, kept in the database and in memory.

One row per (server, setting) holds the value as JSON (`SPECS` says how); a missing row
means the `.env` default applies. Everything is cached in memory, so the hot paths (the
waiting line asks for limits on every release) never wait for the database (SQLite
or PostgreSQL, see `bot.store.opening`).
"""

from __future__ import annotations

import json
from typing import Any

from bot.server_settings import SPECS, Setting
from bot.store.dialect import Queries, Row

_UPSERT = (
    "INSERT INTO server_settings (guild_id, key, value, updated_by, updated_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, key) DO UPDATE SET "
    "value = excluded.value, updated_by = excluded.updated_by, "
    "updated_at = excluded.updated_at"
)
_DELETE = "DELETE FROM server_settings WHERE guild_id = ? AND key = ?"


def _row(row: Row) -> tuple[int, Setting | None, Any]:
    """A stored row → (server, setting, value); the setting is None for a key this bot
    does not know (a newer bot's), which is skipped."""
    try:
        setting = Setting(row["key"])
    except ValueError:
        return row["guild_id"], None, None
    return row["guild_id"], setting, SPECS[setting].from_json(json.loads(row["value"]))


class ServerSettingsStore:
    """Rows of (server, setting) → JSON value, in either database; a missing row means
    the default."""

    def __init__(self, db: Queries) -> None:
        self._db = db

    async def load_all(self) -> dict[int, dict[Setting, Any]]:
        rows = await self._db.fetch("SELECT guild_id, key, value FROM server_settings", (), _row)
        found: dict[int, dict[Setting, Any]] = {}
        for guild_id, setting, value in rows:
            if setting is not None:
                found.setdefault(guild_id, {})[setting] = value
        return found

    async def load_one(self, guild_id: int) -> dict[Setting, Any]:
        sql = "SELECT guild_id, key, value FROM server_settings WHERE guild_id = ?"
        rows = await self._db.fetch(sql, (guild_id,), _row)
        return {setting: value for _, setting, value in rows if setting is not None}

    async def put(self, guild_id: int, setting: Setting, value: Any, *, by: int, at: float) -> None:
        params = (guild_id, setting.value, json.dumps(SPECS[setting].to_json(value)), by, at)
        await self._db.execute(_UPSERT, params)

    async def delete(self, guild_id: int, setting: Setting) -> None:
        await self._db.execute(_DELETE, (guild_id, setting.value))
