"""The policy in memory over the store (SQLite and PostgreSQL alike): changes are read
back at once, strikes block at the rule's count and are spent, and a second process's
book sees a change once told, or on its next look at the versions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.policy.book import AddedTerm, PolicyBook
from bot.policy.members import STRIKE_WINDOW, MemberBlock, Strike, StrikeRule
from bot.policy.terms import TERMS_PER_SERVER
from bot.policy.tiers import RoleTier
from bot.server_settings import ServerSettings, Setting
from bot.server_settings_registry import ServerSettingsRegistry
from bot.store.opening import Storage
from tests.bot.store.backends import StoreBackend

GUILD = 5


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storages(backend: StoreBackend) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two processes' stores on one database."""
    first, second = await backend.open(), await backend.open()
    yield first, second
    await first.close()
    await second.close()


async def book_on(storage: Storage, clock: Clock) -> PolicyBook:
    book = PolicyBook(storage.policy, now=clock, news=storage.news, refresh_every=3600)
    await book.load()
    return book


async def test_terms_apply_at_once_and_are_refused_past_the_limit(
    storages: tuple[Storage, Storage],
) -> None:
    book = await book_on(storages[0], Clock())
    assert book.get(GUILD).terms.find(["a nude statue"]) is None
    assert await book.add_term(GUILD, "  Nude ", by=1) is AddedTerm.ADDED
    assert await book.add_term(GUILD, "n.u.d.e", by=1) is AddedTerm.ALREADY
    assert await book.add_term(GUILD, "…", by=1) is AddedTerm.EMPTY
    assert await book.add_term(GUILD, "x" * 101, by=1) is AddedTerm.TOO_LONG
    assert book.get(GUILD).terms.find(["a NUDE statue"]) is not None
    assert book.get(GUILD).terms.terms == ("Nude",)
    assert book.get(GUILD + 1).terms.find(["a nude statue"]) is None, "per server"
    for number in range(TERMS_PER_SERVER - 1):
        assert await book.add_term(GUILD, f"term{number}", by=1) is AddedTerm.ADDED
    assert await book.add_term(GUILD, "one too many", by=1) is AddedTerm.FULL
    assert await book.remove_term(GUILD, "NUDE")
    assert book.get(GUILD).terms.find(["a nude statue"]) is None


async def test_blocks_hold_until_their_end_or_until_lifted(
    storages: tuple[Storage, Storage],
) -> None:
    clock = Clock()
    book = await book_on(storages[0], clock)
    await book.block(GUILD, MemberBlock(7, until=clock.now + 60, blocked_by=1))
    assert book.get(GUILD).block_of(7, clock.now) is not None
    clock.now += 61
    assert book.get(GUILD).block_of(7, clock.now) is None, "over by itself"
    await book.block(GUILD, MemberBlock(7, until=clock.now + 60, blocked_by=1))
    lifted = await book.unblock(GUILD, 7)
    assert lifted is not None
    assert book.get(GUILD).block_of(7, clock.now) is None
    assert await book.unblock(GUILD, 7) is None


async def test_strikes_block_at_the_count_within_the_window_and_are_spent(
    storages: tuple[Storage, Storage],
) -> None:
    clock = Clock()
    book = await book_on(storages[0], clock)
    rule = StrikeRule(threshold=3, block_hours=24)
    assert await book.strike(GUILD, Strike(7, 1, clock.now), rule) is None
    clock.now += STRIKE_WINDOW + 1
    assert await book.strike(GUILD, Strike(7, 2, clock.now), rule) is None, "the first is old"
    assert await book.strike(GUILD, Strike(7, 2, clock.now), rule) is None, "once per job"
    assert await book.strike(GUILD, Strike(7, 3, clock.now), rule) is None
    blocked = await book.strike(GUILD, Strike(7, 4, clock.now), rule)
    assert blocked is not None
    assert blocked.strikes == 3
    assert blocked.block.automatic
    assert blocked.block.until == clock.now + 24 * 3600
    assert book.get(GUILD).block_of(7, clock.now) == blocked.block
    assert await book.strikes(GUILD, 7) == [], "spent by the block"
    assert await book.strike(GUILD, Strike(8, 5, clock.now), StrikeRule(threshold=0)) is None
    assert len(await book.strikes(GUILD, 8)) == 1, "counted, though strikes block nobody"
    assert await book.clear_strikes(GUILD, 8) == 1


async def test_another_process_sees_a_change_when_told_or_by_the_versions(
    storages: tuple[Storage, Storage],
) -> None:
    clock = Clock()
    here, there = await book_on(storages[0], clock), await book_on(storages[1], clock)
    settings_there = ServerSettingsRegistry(storages[1].settings, ServerSettings(), clock)
    await settings_there.load()
    there.on_reload.append(settings_there.reload)
    settings_here = ServerSettingsRegistry(storages[0].settings, ServerSettings(), clock)
    settings_here.on_change = here.changed

    await here.set_tier(GUILD, RoleTier(9, 60, 5, False, 1), by=1)
    await settings_here.set(GUILD, Setting.STRIKES_TO_BLOCK, 5, by=1)
    assert there.get(GUILD).tiers == {}, "not told (no listening here)"
    assert await there.refresh() == [GUILD]
    assert there.get(GUILD).tiers == {9: RoleTier(9, 60, 5, False, 1)}
    assert settings_there.get(GUILD).strikes_to_block == 5
    assert await there.refresh() == [], "nothing moved since"
