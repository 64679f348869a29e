"""The effective settings of every server, kept in memory and written through to the store.

Every server's changes are cached, so the hot paths (the waiting line asks for limits on
every release) never wait for the database; a missing row means the `.env` default applies.
A change made in another process sharing the database is read again when that process
says so (`reload`, through `bot.policy.book.PolicyBook`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol

from bot.server_settings import SPECS, ServerSettings, Setting, Source


class SettingsStorage(Protocol):
    """Rows of (server, setting) → value; a missing row means the default applies."""

    async def load_all(self) -> dict[int, dict[Setting, Any]]: ...

    async def load_one(self, guild_id: int) -> dict[Setting, Any]: ...

    async def put(
        self, guild_id: int, setting: Setting, value: Any, *, by: int, at: float
    ) -> None: ...

    async def delete(self, guild_id: int, setting: Setting) -> None: ...


class ServerSettingsRegistry:
    """The effective settings of every server, in memory, written through to the store."""

    def __init__(
        self, store: SettingsStorage, defaults: ServerSettings, now: Callable[[], float]
    ) -> None:
        self._store = store
        self.defaults = defaults
        self._now = now
        self._overrides: dict[int, dict[Setting, Any]] = {}
        self.on_change: Callable[[int], Awaitable[None]] | None = None
        """Told after a server's settings changed here (the other processes then read
        them again: `reload`)."""

    async def load(self) -> None:
        self._overrides = await self._store.load_all()

    async def reload(self, guild_id: int) -> None:
        """Read one server's settings again (another process changed them)."""
        self._overrides[guild_id] = await self._store.load_one(guild_id)

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
        await self._changed(guild_id)
        return self.get(guild_id)

    async def reset(self, guild_id: int, settings: Iterable[Setting]) -> ServerSettings:
        for setting in settings:
            await self._store.delete(guild_id, setting)
            self._overrides.get(guild_id, {}).pop(setting, None)
        await self._changed(guild_id)
        return self.get(guild_id)

    async def _changed(self, guild_id: int) -> None:
        if self.on_change is not None:
            await self.on_change(guild_id)
