"""A process's liveness, seen by the other processes directly, without waiting for a lease.

Each process holds a session-level advisory lock keyed by its name, on a connection of
its own. PostgreSQL releases a session's locks the moment the session ends: when the
process exits, is killed (the kernel closes its sockets, the server sees the end at once)
or its connection drops. So a lock missing from `pg_locks` means its process is gone, and
the claim (`bot.store.pg_leases`) takes such a process's jobs over at once instead of
waiting out their leases. The lease stays the fallback for a process that is alive but
cut off: its session may linger on the server (until TCP keepalive ends it), its lock
with it, and its jobs are taken over when their leases run out, as before.

The lock needs a session of its own from start to end: behind a pooler, point the bot at
the database directly or in session pooling mode (not transaction pooling).
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from bot.jobs.ports import StoreError
from bot.store.postgres import PgDatabase

log = logging.getLogger(__name__)

LIVENESS_CLASS = 0x6B6C76
"""The first key of every liveness lock ("klv"); the second is the process's name, hashed."""


def name_key(expression: str) -> str:
    """SQL for the lock key of a process name: 28 bits of its md5, a non-negative integer,
    so it reads the same from `pg_locks.objid` (an oid). Two names that share a key would
    only make a dead process look alive: its jobs then wait for their leases."""
    return f"('x' || left(md5({expression}), 7))::bit(28)::integer"


LIVE_KEYS = (
    "SELECT objid::bigint AS key FROM pg_locks "
    f"WHERE locktype = 'advisory' AND granted AND classid = {LIVENESS_CLASS} "
    "AND objsubid = 2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
"""The keys of the processes alive now (their liveness lock is held)."""

_GONE = (StoreError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What a lost liveness connection raises."""
_LOCK = f"SELECT pg_try_advisory_lock({LIVENESS_CLASS}, {name_key('$1')})"


class PgLiveness:
    """This process's liveness lock, on a connection outside the pool."""

    def __init__(self, db: PgDatabase, *, name: str) -> None:
        self._db = db
        self._name = name
        self._conn: Any = None

    async def start(self) -> None:
        """Take the lock (before this process holds any job)."""
        await self._connect()

    async def ensure(self) -> None:
        """Take the lock again if its connection was lost (the server restarted, say):
        until then the other processes take this one's jobs as a dead one's."""
        if self._conn is None or self._conn.is_closed():
            log.warning("the liveness connection to the database was lost; taking it again")
            await self._connect()

    async def ping(self) -> None:
        """Use the connection now and then, so a server that ends idle sessions keeps it
        and a dead one is noticed; taken again if lost."""
        try:
            await self.ensure()
            await self._conn.fetchval("SELECT 1")
        except _GONE as error:
            log.warning("the liveness connection failed (%s); taking it again", error)
            await self._drop()
            await self._connect()

    async def close(self) -> None:
        """Release the lock (other processes take the jobs left at once)."""
        await self._drop()

    async def _connect(self) -> None:
        conn = await self._db.connect()
        try:
            held = await conn.fetchval(_LOCK, self._name)
        except _GONE as error:
            conn.terminate()
            raise StoreError(f"{type(error).__name__}: {error}") from error
        except BaseException:
            conn.terminate()
            raise
        if not held:
            log.warning(
                "another session holds this process's liveness lock; its jobs are kept by "
                "their leases alone"
            )
        self._conn = conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=5)
            except Exception as error:
                log.info("closing the liveness connection: %s", error)
                conn.terminate()
