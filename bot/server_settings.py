"""Per-server settings: what a server changed with `/video settings`, over `.env` defaults.

Every setting is described once in `SPECS` (its range, how to read and show it), kept
in the database as JSON, and cached in memory so the hot paths (the waiting line asks
for limits on every release) never wait for SQLite. Server and role ids are opaque.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from bot.db import Database

MAX_ACTIVE_PER_USER_RANGE = (1, 50)
MAX_ACTIVE_PER_SERVER_RANGE = (1, 1000)
DAILY_SECONDS_RANGE = (3, 86_400)
DAILY_BUDGET_RANGE = (Decimal("0.01"), Decimal("100000"))


class Setting(StrEnum):
    MODERATOR_ROLES = "moderator_roles"
    CHANNELS = "channels"
    MAX_ACTIVE_PER_USER = "max_active_per_user"
    MAX_ACTIVE_PER_SERVER = "max_active_per_server"
    DAILY_SECONDS_PER_USER = "daily_seconds_per_user"
    DAILY_BUDGET_USD = "daily_budget_usd"
    SOUND_DEFAULT = "sound_default"
    AUDIT_CHANNEL = "audit_channel"


class Source(StrEnum):
    SERVER = "set for this server"
    DEFAULT = "default"


class SettingValueError(ValueError):
    """A value out of range; the message says what is allowed."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The effective settings of one server; `sources` says where each value came from."""

    moderator_role_ids: frozenset[int] = frozenset()
    channel_ids: frozenset[int] = frozenset()
    """Channels where videos may be made; empty means every channel."""
    max_active_per_user: int = 2
    max_active_per_server: int = 10
    daily_seconds_per_user: int | None = None
    daily_budget_usd: Decimal | None = None
    sound_default: bool = True
    audit_channel_id: int | None = None
    sources: Mapping[Setting, Source] = field(default_factory=dict)

    def source(self, setting: Setting) -> Source:
        return self.sources.get(setting, Source.DEFAULT)


_ATTRIBUTES: Mapping[Setting, str] = {
    Setting.MODERATOR_ROLES: "moderator_role_ids",
    Setting.CHANNELS: "channel_ids",
    Setting.MAX_ACTIVE_PER_USER: "max_active_per_user",
    Setting.MAX_ACTIVE_PER_SERVER: "max_active_per_server",
    Setting.DAILY_SECONDS_PER_USER: "daily_seconds_per_user",
    Setting.DAILY_BUDGET_USD: "daily_budget_usd",
    Setting.SOUND_DEFAULT: "sound_default",
    Setting.AUDIT_CHANNEL: "audit_channel_id",
}


def _whole_number_in(low: int, high: int, what: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SettingValueError(f"{what} must be a whole number from {low} to {high:,}.")
        return value

    return check


def check_daily_seconds(value: Any) -> int | None:
    """0 turns the quota off."""
    low, high = DAILY_SECONDS_RANGE
    if value == 0 or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingValueError(
            f"The daily quota must be 0 (no quota) or {low} to {high:,} seconds of video."
        )
    return value


def check_daily_budget(value: Any) -> Decimal | None:
    """0 turns the budget off; amounts are kept to the cent."""
    if value is None:
        return None
    low, high = DAILY_BUDGET_RANGE
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        amount = Decimal(-1)
    if amount == 0:
        return None
    if not low <= amount <= high:
        raise SettingValueError(
            f"The daily budget must be 0 (no budget) or ${low} to ${high:,.0f}."
        )
    return amount


check_max_active_per_user = _whole_number_in(
    *MAX_ACTIVE_PER_USER_RANGE, "The limit of videos per member at once"
)
check_max_active_per_server = _whole_number_in(
    *MAX_ACTIVE_PER_SERVER_RANGE, "The limit of videos per server at once"
)


def _to_json(setting: Setting, value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _from_json(setting: Setting, raw: Any) -> Any:
    if setting in (Setting.MODERATOR_ROLES, Setting.CHANNELS):
        return frozenset(int(item) for item in raw)
    if setting is Setting.DAILY_BUDGET_USD:
        return None if raw is None else Decimal(raw)
    return raw


class ServerSettingsStore:
    """Rows of (server, setting) → JSON value; a missing row means the default applies."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load_all(self) -> dict[int, dict[Setting, Any]]:
        def load(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute("SELECT guild_id, key, value FROM server_settings").fetchall()

        found: dict[int, dict[Setting, Any]] = {}
        for row in await self._db.run(load):
            try:
                setting = Setting(row["key"])
            except ValueError:
                continue
            found.setdefault(row["guild_id"], {})[setting] = _from_json(
                setting, json.loads(row["value"])
            )
        return found

    async def put(self, guild_id: int, setting: Setting, value: Any, *, by: int, at: float) -> None:
        encoded = json.dumps(_to_json(setting, value))

        def put(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO server_settings (guild_id, key, value, updated_by, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, key) DO UPDATE SET "
                "value = excluded.value, updated_by = excluded.updated_by, "
                "updated_at = excluded.updated_at",
                (guild_id, setting.value, encoded, by, at),
            )

        await self._db.run(put)

    async def delete(self, guild_id: int, setting: Setting) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM server_settings WHERE guild_id = ? AND key = ?",
                (guild_id, setting.value),
            )

        await self._db.run(delete)


class ServerSettingsRegistry:
    """The effective settings of every server, in memory, written through to the store."""

    def __init__(
        self, store: ServerSettingsStore, defaults: ServerSettings, now: Callable[[], float]
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
        values = {_ATTRIBUTES[setting]: value for setting, value in overrides.items()}
        return replace(self.defaults, **values, sources=dict.fromkeys(overrides, Source.SERVER))

    async def set(self, guild_id: int, setting: Setting, value: Any, *, by: int) -> ServerSettings:
        """Store a value that its `check_*` function has already accepted."""
        await self._store.put(guild_id, setting, value, by=by, at=self._now())
        self._overrides.setdefault(guild_id, {})[setting] = value
        return self.get(guild_id)

    async def reset(self, guild_id: int, settings: Iterable[Setting]) -> ServerSettings:
        for setting in settings:
            await self._store.delete(guild_id, setting)
            self._overrides.get(guild_id, {}).pop(setting, None)
        return self.get(guild_id)
