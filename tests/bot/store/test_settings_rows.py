"""Each server's changed settings, one row per setting, in SQLite and PostgreSQL alike (what
the registry makes of them: tests/bot/test_server_settings.py)."""

from __future__ import annotations

from bot.server_settings import Setting
from tests.bot.store.backends import StoreBackend


async def test_rows_survive_a_reopen_and_the_last_write_wins(backend: StoreBackend) -> None:
    first = await backend.open()
    await first.settings.put(2**62, Setting.MAX_ACTIVE_PER_USER, 3, by=2**61, at=1.0)
    await first.settings.put(2**62, Setting.MAX_ACTIVE_PER_USER, 5, by=2**61, at=2.0)
    await first.settings.put(9, Setting.SOUND_DEFAULT, False, by=1, at=1.0)
    await first.settings.delete(9, Setting.SOUND_DEFAULT)
    await first.settings.delete(9, Setting.CHANNELS)
    await first.close()
    second = await backend.open()
    try:
        assert await second.settings.load_all() == {2**62: {Setting.MAX_ACTIVE_PER_USER: 5}}
    finally:
        await second.close()


async def test_one_servers_rows_are_read_alone(backend: StoreBackend) -> None:
    storage = await backend.open()
    try:
        await storage.settings.put(2**62, Setting.STRIKES_TO_BLOCK, 5, by=1, at=1.0)
        await storage.settings.put(9, Setting.SOUND_DEFAULT, False, by=1, at=1.0)
        assert await storage.settings.load_one(2**62) == {Setting.STRIKES_TO_BLOCK: 5}
        assert await storage.settings.load_one(8) == {}
    finally:
        await storage.close()
