"""Each server's own policy in the database, for SQLite and PostgreSQL alike: blocked
terms, role tiers, member blocks, strikes, and the version every change raises.

Written once with `?` placeholders (see `bot.store.dialect`). Every statement stands on
its own; where two processes could race (the 500th term, the same job's strike twice)
the database decides in one statement. The policy itself is cached in memory by
`bot.policy.book.PolicyBook`, which reads it back from here.
"""

from __future__ import annotations

from bot.policy.book import AddedTerm, PolicyRows
from bot.policy.members import MemberBlock, Strike
from bot.policy.tiers import RoleTier
from bot.store.dialect import Dialect, Queries, Row

_TERM_IS_THERE = "SELECT 1 FROM blocked_terms WHERE guild_id = ? AND key = ?"


def _add_term(d: Dialect) -> str:
    """Added only while the server has fewer than the limit (counted by the database, so
    two processes cannot both add the last one); typed casts, as PostgreSQL does not
    infer the types of a SELECT's parameters from the columns they go into."""
    return (
        "INSERT INTO blocked_terms (guild_id, key, term, added_by, added_at) "
        f"SELECT CAST(? AS {d.big_int}), CAST(? AS TEXT), CAST(? AS TEXT), "
        f"CAST(? AS {d.big_int}), CAST(? AS {d.real}) "
        "WHERE (SELECT count(*) FROM blocked_terms WHERE guild_id = ?) < ? "
        "ON CONFLICT (guild_id, key) DO NOTHING"
    )


_PUT_TIER = (
    "INSERT INTO role_tiers (guild_id, role_id, daily_seconds, longest_seconds, sound, "
    "jobs_at_once, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, role_id) DO UPDATE SET daily_seconds = excluded.daily_seconds, "
    "longest_seconds = excluded.longest_seconds, sound = excluded.sound, "
    "jobs_at_once = excluded.jobs_at_once, updated_by = excluded.updated_by, "
    "updated_at = excluded.updated_at"
)
_PUT_BLOCK = (
    "INSERT INTO member_blocks (guild_id, user_id, until, reason, blocked_by, blocked_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET "
    "until = excluded.until, reason = excluded.reason, blocked_by = excluded.blocked_by, "
    "blocked_at = excluded.blocked_at"
)
_ADD_STRIKE = (
    "INSERT INTO strikes (guild_id, job_id, user_id, at, reason) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, job_id) DO NOTHING"
)
_BUMP = (
    "INSERT INTO server_changes (guild_id, version) VALUES (?, 1) "
    "ON CONFLICT (guild_id) DO UPDATE SET version = server_changes.version + 1"
)


def _tier(row: Row) -> tuple[int, RoleTier]:
    tier = RoleTier(
        role_id=row["role_id"],
        daily_seconds=row["daily_seconds"],
        longest_seconds=row["longest_seconds"],
        sound=bool(row["sound"]),
        jobs_at_once=row["jobs_at_once"],
    )
    return row["guild_id"], tier


def _block(row: Row) -> tuple[int, MemberBlock]:
    block = MemberBlock(
        user_id=row["user_id"],
        until=row["until"],
        reason=row["reason"],
        blocked_by=row["blocked_by"],
        blocked_at=row["blocked_at"],
    )
    return row["guild_id"], block


def _strike(row: Row) -> Strike:
    return Strike(row["user_id"], row["job_id"], row["at"], row["reason"])


def _where(guild_id: int | None) -> tuple[str, tuple[int, ...]]:
    return ("", ()) if guild_id is None else (" WHERE guild_id = ?", (guild_id,))


class PolicyStore:
    """Every server's policy rows, in either database (`bot.policy.book.PolicyStorage`)."""

    def __init__(self, db: Queries) -> None:
        self._db = db

    async def load(self, guild_id: int | None = None) -> dict[int, PolicyRows]:
        """One server's rows (or every server's, with None), by server."""
        where, params = _where(guild_id)
        found: dict[int, PolicyRows] = {}

        def rows(guild: int) -> PolicyRows:
            return found.setdefault(guild, PolicyRows())

        terms = await self._db.fetch(
            f"SELECT guild_id, term FROM blocked_terms{where} ORDER BY added_at, key",
            params,
            lambda row: (row["guild_id"], row["term"]),
        )
        for guild, term in terms:
            rows(guild).terms.append(term)
        for guild, tier in await self._db.fetch(f"SELECT * FROM role_tiers{where}", params, _tier):
            rows(guild).tiers[tier.role_id] = tier
        blocks = await self._db.fetch(f"SELECT * FROM member_blocks{where}", params, _block)
        for guild, block in blocks:
            rows(guild).blocks[block.user_id] = block
        return found

    async def versions(self, guild_id: int | None = None) -> dict[int, int]:
        where, params = _where(guild_id)
        rows = await self._db.fetch(
            f"SELECT guild_id, version FROM server_changes{where}",
            params,
            lambda row: (row["guild_id"], row["version"]),
        )
        return dict(rows)

    async def bump(self, guild_id: int) -> None:
        await self._db.execute(_BUMP, (guild_id,))

    async def add_term(
        self, guild_id: int, key: str, term: str, *, by: int, at: float, limit: int
    ) -> AddedTerm:
        is_there = await self._db.fetch(_TERM_IS_THERE, (guild_id, key), lambda row: True)
        if is_there:
            return AddedTerm.ALREADY
        params = (guild_id, key, term, by, at, guild_id, limit)
        added = await self._db.execute(_add_term(self._db.dialect), params)
        return AddedTerm.ADDED if added else AddedTerm.FULL

    async def remove_term(self, guild_id: int, key: str) -> bool:
        sql = "DELETE FROM blocked_terms WHERE guild_id = ? AND key = ?"
        return bool(await self._db.execute(sql, (guild_id, key)))

    async def put_tier(self, guild_id: int, tier: RoleTier, *, by: int, at: float) -> None:
        params = (
            guild_id,
            tier.role_id,
            tier.daily_seconds,
            tier.longest_seconds,
            int(tier.sound),
            tier.jobs_at_once,
            by,
            at,
        )
        await self._db.execute(_PUT_TIER, params)

    async def remove_tier(self, guild_id: int, role_id: int) -> bool:
        sql = "DELETE FROM role_tiers WHERE guild_id = ? AND role_id = ?"
        return bool(await self._db.execute(sql, (guild_id, role_id)))

    async def put_block(self, guild_id: int, block: MemberBlock) -> None:
        params = (
            guild_id,
            block.user_id,
            block.until,
            block.reason,
            block.blocked_by,
            block.blocked_at,
        )
        await self._db.execute(_PUT_BLOCK, params)

    async def remove_block(self, guild_id: int, user_id: int) -> bool:
        sql = "DELETE FROM member_blocks WHERE guild_id = ? AND user_id = ?"
        return bool(await self._db.execute(sql, (guild_id, user_id)))

    async def add_strike(self, guild_id: int, strike: Strike) -> bool:
        """False when this job's strike is already counted (by this or another process)."""
        params = (guild_id, strike.job_id, strike.user_id, strike.at, strike.reason)
        return bool(await self._db.execute(_ADD_STRIKE, params))

    async def strikes(self, guild_id: int, user_id: int, *, since: float) -> list[Strike]:
        sql = (
            "SELECT user_id, job_id, at, reason FROM strikes "
            "WHERE guild_id = ? AND user_id = ? AND at >= ? ORDER BY at, job_id"
        )
        return await self._db.fetch(sql, (guild_id, user_id, since), _strike)

    async def clear_strikes(self, guild_id: int, user_id: int) -> int:
        sql = "DELETE FROM strikes WHERE guild_id = ? AND user_id = ?"
        return await self._db.execute(sql, (guild_id, user_id))
