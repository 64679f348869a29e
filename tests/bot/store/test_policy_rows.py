"""Each server's policy in SQLite and PostgreSQL alike: terms (one row per folded term,
at most the limit, decided by the database), tiers, blocks, strikes counted once per job,
and the version every change raises (what the book makes of them: tests/bot/policy)."""

from __future__ import annotations

from bot.policy.book import AddedTerm
from bot.policy.members import MemberBlock, Strike
from bot.policy.tiers import RoleTier
from bot.store.opening import Storage
from tests.bot.store.backends import StoreBackend

GUILD = 2**62
OTHER = 9


async def test_terms_are_kept_once_in_the_order_added_and_only_up_to_the_limit(
    storage: Storage,
) -> None:
    policy = storage.policy
    add = policy.add_term
    assert await add(GUILD, "nude", "Nude", by=2**61, at=1.0, limit=2) is AddedTerm.ADDED
    assert await add(GUILD, "nude", "n.u.d.e", by=1, at=2.0, limit=2) is AddedTerm.ALREADY
    assert await add(GUILD, "blue waffle", "blue waffle", by=1, at=3.0, limit=2) is (
        AddedTerm.ADDED
    )
    assert await add(GUILD, "third", "third", by=1, at=4.0, limit=2) is AddedTerm.FULL
    assert await add(OTHER, "third", "third", by=1, at=4.0, limit=2) is AddedTerm.ADDED
    found = await policy.load()
    assert found[GUILD].terms == ["Nude", "blue waffle"]
    assert (await policy.load(OTHER))[OTHER].terms == ["third"]
    assert await policy.remove_term(GUILD, "nude")
    assert not await policy.remove_term(GUILD, "nude")
    assert (await policy.load(GUILD))[GUILD].terms == ["blue waffle"]


async def test_tiers_and_blocks_are_replaced_and_removed(storage: Storage) -> None:
    policy = storage.policy
    tier = RoleTier(2**61, daily_seconds=None, longest_seconds=10, sound=False, jobs_at_once=3)
    await policy.put_tier(GUILD, tier, by=1, at=1.0)
    changed = RoleTier(2**61, daily_seconds=300, longest_seconds=15, sound=True, jobs_at_once=1)
    await policy.put_tier(GUILD, changed, by=1, at=2.0)
    block = MemberBlock(2**60, until=1e10, reason="spam", blocked_by=7, blocked_at=5.0)
    await policy.put_block(GUILD, block)
    automatic = MemberBlock(3, until=50.0, blocked_at=5.0)
    await policy.put_block(GUILD, automatic)
    rows = (await policy.load(GUILD))[GUILD]
    assert rows.tiers == {2**61: changed}
    assert rows.blocks == {2**60: block, 3: automatic}
    assert await policy.remove_tier(GUILD, 2**61)
    assert not await policy.remove_tier(GUILD, 2**61)
    assert await policy.remove_block(GUILD, 3)
    assert not await policy.remove_block(GUILD, 3)
    rows = (await policy.load(GUILD))[GUILD]
    assert (rows.tiers, rows.blocks) == ({}, {2**60: block})


async def test_a_jobs_strike_counts_once_and_is_cleared(storage: Storage) -> None:
    policy = storage.policy
    assert await policy.add_strike(GUILD, Strike(4, 2**62, 10.0, "flagged"))
    assert not await policy.add_strike(GUILD, Strike(4, 2**62, 11.0, "flagged again"))
    assert await policy.add_strike(GUILD, Strike(4, 2, 20.0, None))
    assert await policy.add_strike(GUILD, Strike(5, 3, 20.0, None))
    assert await policy.strikes(GUILD, 4, since=0.0) == [
        Strike(4, 2**62, 10.0, "flagged"),
        Strike(4, 2, 20.0, None),
    ]
    assert await policy.strikes(GUILD, 4, since=15.0) == [Strike(4, 2, 20.0, None)]
    assert await policy.clear_strikes(GUILD, 4) == 2
    assert await policy.strikes(GUILD, 4, since=0.0) == []
    assert len(await policy.strikes(GUILD, 5, since=0.0)) == 1


async def test_every_bump_raises_the_servers_version(backend: StoreBackend) -> None:
    first = await backend.open()
    await first.policy.bump(GUILD)
    await first.policy.bump(GUILD)
    await first.policy.bump(OTHER)
    await first.close()
    second = await backend.open()
    try:
        assert await second.policy.versions() == {GUILD: 2, OTHER: 1}
        assert await second.policy.versions(OTHER) == {OTHER: 1}
    finally:
        await second.close()
