"""Every server's policy in memory, written through to the store and kept fresh across
processes.

The hot path (every command that would spend) reads the policy without waiting for the
database, like the server settings. A change is written to the store first, then the
server's version is raised and the other processes are told (`ServerNews`: PostgreSQL's
NOTIFY), and each of them reads that server's rows again at once, so a block or a new
term applies everywhere well within a second. A message can be lost (a listener that was
reconnecting), so every process also compares the versions every `refresh_every`
seconds and reloads what changed. Others may hook in (`on_reload`): the server settings
are reloaded the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from bot.jobs.ports import StoreError
from bot.policy.members import STRIKE_WINDOW, MemberBlock, Strike, StrikeRule
from bot.policy.terms import TERM_MAX_CHARS, TERMS_PER_SERVER, TermMatcher, term_key, tidy_term
from bot.policy.tiers import Allowance, RoleTier, allowance_for

log = logging.getLogger(__name__)

REFRESH_SECONDS = 10.0


class AddedTerm(StrEnum):
    ADDED = "added"
    ALREADY = "already"
    FULL = "full"
    """The server has `TERMS_PER_SERVER` terms."""
    EMPTY = "empty"
    """No letter or digit in it."""
    TOO_LONG = "too_long"


@dataclass
class PolicyRows:
    """One server's rows as the store keeps them."""

    terms: list[str] = field(default_factory=list)
    tiers: dict[int, RoleTier] = field(default_factory=dict)
    blocks: dict[int, MemberBlock] = field(default_factory=dict)


class PolicyStorage(Protocol):
    async def load(self, guild_id: int | None = None) -> dict[int, PolicyRows]: ...

    async def versions(self, guild_id: int | None = None) -> dict[int, int]: ...

    async def bump(self, guild_id: int) -> None: ...

    async def add_term(
        self, guild_id: int, key: str, term: str, *, by: int, at: float, limit: int
    ) -> AddedTerm: ...

    async def remove_term(self, guild_id: int, key: str) -> bool: ...

    async def put_tier(self, guild_id: int, tier: RoleTier, *, by: int, at: float) -> None: ...

    async def remove_tier(self, guild_id: int, role_id: int) -> bool: ...

    async def put_block(self, guild_id: int, block: MemberBlock) -> None: ...

    async def remove_block(self, guild_id: int, user_id: int) -> bool: ...

    async def add_strike(self, guild_id: int, strike: Strike) -> bool: ...

    async def strikes(self, guild_id: int, user_id: int, *, since: float) -> list[Strike]: ...

    async def clear_strikes(self, guild_id: int, user_id: int) -> int: ...


NewsHandler = Callable[[int], Awaitable[None]]
"""Told the id of a server whose settings or policy another process changed."""


class ServerNews(Protocol):
    """How processes sharing a database tell each other that a server changed."""

    async def start(self, handler: NewsHandler) -> None: ...

    async def tell(self, guild_id: int) -> None: ...

    async def keep_listening(self) -> None: ...

    async def close(self) -> None: ...


class NoNews:
    """One process on its own database: nobody to tell."""

    async def start(self, handler: NewsHandler) -> None:
        return None

    async def tell(self, guild_id: int) -> None:
        return None

    async def keep_listening(self) -> None:
        return None

    async def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    """One server's policy, ready for the hot path (terms compiled)."""

    terms: TermMatcher = field(default_factory=TermMatcher)
    tiers: Mapping[int, RoleTier] = field(default_factory=dict)
    blocks: Mapping[int, MemberBlock] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: PolicyRows) -> ServerPolicy:
        return cls(TermMatcher.of(rows.terms), dict(rows.tiers), dict(rows.blocks))

    def block_of(self, user_id: int, now: float) -> MemberBlock | None:
        block = self.blocks.get(user_id)
        return block if block is not None and block.holds(now) else None

    def allowance(self, role_ids: Iterable[int], base: Allowance) -> Allowance:
        return allowance_for(role_ids, self.tiers, base)


EMPTY = ServerPolicy()


@dataclass(frozen=True, slots=True)
class AutoBlock:
    """Strikes blocked a member: the block, and how many strikes it took."""

    block: MemberBlock
    strikes: int


class PolicyBook:
    def __init__(
        self,
        store: PolicyStorage,
        *,
        now: Callable[[], float],
        news: ServerNews | None = None,
        refresh_every: float = REFRESH_SECONDS,
    ) -> None:
        self._store = store
        self._now = now
        self._news = news or NoNews()
        self._refresh_every = refresh_every
        self._policies: dict[int, ServerPolicy] = {}
        self._versions: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.on_reload: list[NewsHandler] = []
        """Also told when a server changed elsewhere (after its policy is reloaded)."""

    async def load(self) -> None:
        self._versions = await self._store.versions()
        rows = await self._store.load()
        self._policies = {guild: ServerPolicy.of(found) for guild, found in rows.items()}

    async def start(self) -> None:
        """Hear other processes' changes, and compare versions now and then."""
        await self._news.start(self._heard)
        self._task = asyncio.create_task(self._keep_fresh(), name="policy-refresh")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._news.close()

    def get(self, guild_id: int | None) -> ServerPolicy:
        return EMPTY if guild_id is None else self._policies.get(guild_id, EMPTY)

    # ------------------------------------------------------------------- changes

    async def add_term(self, guild_id: int, term: str, *, by: int) -> AddedTerm:
        term = tidy_term(term)
        key = term_key(term)
        if not key:
            return AddedTerm.EMPTY
        if len(term) > TERM_MAX_CHARS:
            return AddedTerm.TOO_LONG
        added = await self._store.add_term(
            guild_id, key, term, by=by, at=self._now(), limit=TERMS_PER_SERVER
        )
        if added is AddedTerm.ADDED:
            await self.changed(guild_id)
        return added

    async def remove_term(self, guild_id: int, term: str) -> bool:
        removed = await self._store.remove_term(guild_id, term_key(term))
        if removed:
            await self.changed(guild_id)
        return removed

    async def set_tier(self, guild_id: int, tier: RoleTier, *, by: int) -> None:
        await self._store.put_tier(guild_id, tier, by=by, at=self._now())
        await self.changed(guild_id)

    async def remove_tier(self, guild_id: int, role_id: int) -> bool:
        removed = await self._store.remove_tier(guild_id, role_id)
        if removed:
            await self.changed(guild_id)
        return removed

    async def block(self, guild_id: int, block: MemberBlock) -> None:
        await self._store.put_block(guild_id, block)
        await self.changed(guild_id)

    async def unblock(self, guild_id: int, user_id: int) -> MemberBlock | None:
        """Lift a member's block; the block that held, or None if none did."""
        held = self.get(guild_id).block_of(user_id, self._now())
        if await self._store.remove_block(guild_id, user_id):
            await self.changed(guild_id)
        return held

    async def strikes(self, guild_id: int, user_id: int) -> list[Strike]:
        """The member's strikes that still count."""
        since = self._now() - STRIKE_WINDOW
        return await self._store.strikes(guild_id, user_id, since=since)

    async def clear_strikes(self, guild_id: int, user_id: int) -> int:
        return await self._store.clear_strikes(guild_id, user_id)

    async def strike(self, guild_id: int, strike: Strike, rule: StrikeRule) -> AutoBlock | None:
        """Count a strike once (whichever process sees the job fail first); at the rule's
        count within the window the member is blocked and those strikes are spent. A
        member already blocked for longer keeps that block."""
        if not await self._store.add_strike(guild_id, strike) or not rule.on:
            return None
        now = self._now()
        counted = await self._store.strikes(guild_id, strike.user_id, since=now - STRIKE_WINDOW)
        if not rule.blocks(len(counted)):
            return None
        await self._store.clear_strikes(guild_id, strike.user_id)
        held = self.get(guild_id).block_of(strike.user_id, now)
        block = MemberBlock(strike.user_id, rule.block_until(now), blocked_at=now)
        if held is not None and held.until >= block.until:
            return None
        await self.block(guild_id, block)
        return AutoBlock(block, len(counted))

    async def changed(self, guild_id: int) -> None:
        """A server's settings or policy changed here: raise its version, read it again,
        and tell the other processes."""
        await self._store.bump(guild_id)
        await self._reload(guild_id)
        try:
            await self._news.tell(guild_id)
        except StoreError as error:
            log.warning(
                "could not tell other processes that server %d changed: %s", guild_id, error
            )

    # ------------------------------------------------------------------ freshness

    async def _reload(self, guild_id: int) -> None:
        versions = await self._store.versions(guild_id)
        rows = await self._store.load(guild_id)
        self._policies[guild_id] = ServerPolicy.of(rows.get(guild_id, PolicyRows()))
        self._versions[guild_id] = versions.get(guild_id, 0)

    async def _heard(self, guild_id: int) -> None:
        """Another process changed a server: its policy and whatever hooked in."""
        await self._reload(guild_id)
        for handler in list(self.on_reload):
            await handler(guild_id)

    async def refresh(self) -> list[int]:
        """Reload every server whose version moved since it was read; which ones."""
        moved = [
            guild
            for guild, version in (await self._store.versions()).items()
            if self._versions.get(guild) != version
        ]
        for guild in moved:
            await self._heard(guild)
        return moved

    async def _keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_every)
            try:
                await self._news.keep_listening()
                await self.refresh()
            except StoreError as error:
                log.warning("could not check servers' settings for changes: %s", error)
            except Exception:
                log.exception("checking servers' settings for changes failed; trying again")
