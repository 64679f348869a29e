"""Job leases in PostgreSQL: plain `FOR UPDATE SKIP LOCKED` on the jobs table itself.

A job's lease is two columns of its own row (`lease_owner`, `lease_until`, in database
time), so taking a job over, renewing it and fencing every write are single statements
on the row that holds the job's state — there is no second queue to keep in step with it.
A process claims open jobs nobody holds; it prefers the servers of its own shards (so one
channel's messages stay paced by one process) and takes another shard's jobs only once
their lease has been out for one more lease time, which leaves their own shard's process
the first chance.

With liveness (`bot.store.pg_liveness`) a process sees directly which holders are gone:
their jobs are taken over at once, whoever's shard they are on, and a claim runs every
`TAKEOVER_CHECK_SECONDS`; the lease rules above stay for a holder that is alive but cut
off.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.jobs.model import Job
from bot.sharding import ShardSet
from bot.store.job_rows import from_row
from bot.store.pg_jobs import PgJobStore
from bot.store.pg_liveness import LIVE_KEYS, PgLiveness, name_key
from bot.store.postgres import DB_NOW

_LEASE_RAN_OUT = """
        COALESCE(lease_until, '-infinity') < now.t
        AND (
          COALESCE(lease_until, '-infinity') < now.t - $2
          OR $4::integer IS NULL
          OR ((COALESCE(guild_id, 0) >> 22) % $4) = ANY($5::integer[])
        )"""
_HOLDER_GONE = f"""
        lease_owner IS NOT NULL AND lease_owner <> $1
        AND {name_key("lease_owner")} NOT IN (SELECT key FROM live)"""


def _claim(takeable: str) -> str:
    return f"""
WITH now AS (SELECT {DB_NOW} AS t), live AS ({LIVE_KEYS})
UPDATE jobs SET lease_owner = $1, lease_until = (SELECT t FROM now) + $2
WHERE id IN (
    SELECT id FROM jobs, now
    WHERE is_open = 1 AND ({takeable})
    ORDER BY id
    LIMIT $3
    FOR UPDATE OF jobs SKIP LOCKED
)
RETURNING *
"""


_CLAIM = _claim(_LEASE_RAN_OUT)
_CLAIM_FROM_THE_GONE = _claim(f"({_LEASE_RAN_OUT}) OR ({_HOLDER_GONE})")
"""With liveness: also the jobs of a process whose liveness lock is gone, at once."""
TAKEOVER_CHECK_SECONDS = 1.0
"""Real seconds between two looks for jobs to take over, with liveness: a dead process's
jobs are held again within about this long."""
_RENEW = (
    f"UPDATE jobs SET lease_until = {DB_NOW} + $2 "
    "WHERE lease_owner = $1 AND is_open = 1 AND id = ANY($3::bigint[]) RETURNING id"
)
_LET_GO = f"UPDATE jobs SET lease_until = {DB_NOW} WHERE lease_owner = $1 AND is_open = 1"


class PgLeases:
    """This process's leases on the jobs of a shared PostgreSQL database."""

    def __init__(
        self,
        store: PgJobStore,
        *,
        shards: ShardSet | None = None,
        liveness: PgLiveness | None = None,
    ) -> None:
        """`shards`: the ones this process runs (None: every shard, no preference).
        `liveness`: this process's liveness lock; with it, the jobs of a process whose
        lock is gone are taken over at once (every process sharing the jobs needs one)."""
        self._store = store
        self._shards = shards
        self._liveness = liveness

    @property
    def shared(self) -> bool:
        return True

    @property
    def owner(self) -> str:
        return self._store.owner

    @property
    def interval(self) -> float:
        return self._store.lease_seconds / 3

    @property
    def claim_interval(self) -> float:
        if self._liveness is None:
            return self.interval
        return min(self.interval, TAKEOVER_CHECK_SECONDS)

    async def claim(self, *, limit: int) -> list[Job]:
        count = None if self._shards is None else self._shards.count
        ids = [] if self._shards is None else sorted(self._shards.ids)
        query = _CLAIM
        if self._liveness is not None:
            await self._liveness.ensure()
            query = _CLAIM_FROM_THE_GONE

        async def claim(conn: Any) -> list[Any]:
            rows: list[Any] = await conn.fetch(
                query, self.owner, self._store.lease_seconds, limit, count, ids
            )
            return rows

        rows = await self._store.db.run(claim)
        return sorted((from_row(row) for row in rows), key=lambda job: job.id)

    async def renew(self, job_ids: Iterable[int]) -> set[int]:
        wanted = sorted(job_ids)
        if self._liveness is not None:
            await self._liveness.ping()

        async def renew(conn: Any) -> list[Any]:
            rows: list[Any] = await conn.fetch(
                _RENEW, self.owner, self._store.lease_seconds, wanted
            )
            return rows

        return {row["id"] for row in await self._store.db.run(renew)}

    async def let_go(self) -> None:
        async def let_go(conn: Any) -> None:
            await conn.execute(_LET_GO, self.owner)

        await self._store.db.run(let_go)

    async def database_time(self) -> float | None:
        async def read(conn: Any) -> float:
            now: float = await conn.fetchval(f"SELECT {DB_NOW}::float8")
            return now

        return await self._store.db.run(read)
