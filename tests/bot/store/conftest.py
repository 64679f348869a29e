"""Every store test gets a fresh database of each kind (`backend`, tests/bot/conftest.py),
opened the way the bot opens it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.jobs.ports import JobStorage
from bot.store.opening import Storage
from tests.bot.store.backends import StoreBackend


@pytest.fixture
async def storage(backend: StoreBackend) -> AsyncIterator[Storage]:
    storage = await backend.open()
    yield storage
    await storage.close()


@pytest.fixture
def store(storage: Storage) -> JobStorage:
    return storage.jobs
