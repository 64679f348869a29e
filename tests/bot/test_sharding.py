"""Which shard a server belongs to, and which shards a process runs."""

from __future__ import annotations

import pytest

from bot.sharding import ShardSet, shard_of

# Serenity's documented example: guild 81384788765712384 is on shard 7 of 17.
KNOWN_GUILD = 81384788765712384


def test_shard_of_is_discords_rule() -> None:
    assert shard_of(KNOWN_GUILD, 17) == 7
    assert shard_of(KNOWN_GUILD, 1) == 0
    assert [shard_of(n << 22, 3) for n in range(5)] == [0, 1, 2, 0, 1]
    with pytest.raises(ValueError, match="1 or more"):
        shard_of(KNOWN_GUILD, 0)


def test_a_process_without_shard_ids_owns_every_server_and_dms() -> None:
    everything = ShardSet.of(2)
    assert everything.is_whole_bot
    assert [everything.owns(g) for g in (0 << 22, 1 << 22, None)] == [True, True, True]
    assert str(everything) == "shards 0, 1 of 2"


def test_a_process_owns_only_its_shards_servers() -> None:
    second = ShardSet.of(2, [1])
    assert not second.is_whole_bot
    assert [second.owns(n << 22) for n in range(4)] == [False, True, False, True]
    assert not second.owns(None), "DMs arrive at shard 0"
    assert ShardSet.of(2, [0]).owns(None)
    assert str(second) == "shard 1 of 2"


@pytest.mark.parametrize(("count", "ids"), [(0, None), (2, [2]), (2, []), (2, [-1])])
def test_impossible_shard_sets_are_refused(count: int, ids: list[int] | None) -> None:
    with pytest.raises(ValueError, match="not a set"):
        ShardSet.of(count, ids)
