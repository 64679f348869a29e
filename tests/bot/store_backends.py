"""The two databases the shared store tests run against, opened the way the bot opens them:
a DATABASE_URL, `load_settings`, then `bot.store.opening.open_storage`."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bot.config import Settings, load_settings
from bot.store.opening import Storage, open_storage


@dataclass(frozen=True)
class StoreBackend:
    name: str
    url: str
    base_dir: Path

    def settings(self) -> Settings:
        env = {"RUNCOMFY_API_TOKEN": "token", "DATABASE_URL": self.url}
        return load_settings(env, need_discord=False, base_dir=self.base_dir)

    async def open(self) -> Storage:
        return await open_storage(self.settings())

    async def set_schema_version(self, version: int) -> None:
        """Pretend a newer (or older) bot migrated this database last."""
        settings = self.settings()
        if settings.postgres is None:
            with sqlite3.connect(settings.database_path) as conn:
                conn.execute(f"PRAGMA user_version = {version}")
            return
        conn = await asyncpg.connect(settings.postgres.dsn.reveal())
        try:
            await conn.execute("UPDATE schema_version SET version = $1", version)
        finally:
            await conn.close()
