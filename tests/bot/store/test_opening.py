"""The storage factory: DATABASE_URL picks the backend; one that cannot be opened is a
one-line ConfigError that names where it points, never the password."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.store.opening import open_storage
from bot.store.pg_jobs import PgJobStore
from bot.store.settings_rows import ServerSettingsStore
from bot.store.sqlite_jobs import JobStore
from tests.bot.store.backends import StoreBackend


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_url_picks_the_backend(backend: StoreBackend) -> None:
    storage = await backend.open()
    try:
        expected = {"sqlite": JobStore, "postgres": PgJobStore}[backend.name]
        assert type(storage.jobs) is expected
        assert type(storage.settings) is ServerSettingsStore
    finally:
        await storage.close()


async def test_an_unreachable_server_is_a_config_error_without_the_password(
    tmp_path: Path,
) -> None:
    port = _unused_port()
    url = f"postgresql://bot:s3cret@127.0.0.1:{port}/kling"
    env = {"RUNCOMFY_API_TOKEN": "t", "DATABASE_URL": url}
    settings = load_settings(env, need_discord=False, base_dir=tmp_path)
    with pytest.raises(ConfigError) as caught:
        await open_storage(settings)
    message = str(caught.value)
    assert message.startswith(f"DATABASE_URL points to 127.0.0.1:{port}/kling")
    assert "s3cret" not in message


async def test_an_unopenable_sqlite_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the folder should be")
    url = f"sqlite:///{tmp_path / 'taken' / 'bot.sqlite3'}"
    env = {"RUNCOMFY_API_TOKEN": "t", "DATABASE_URL": url}
    settings = load_settings(env, need_discord=False, base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"DATABASE_URL points to .*cannot be opened"):
        await open_storage(settings)
