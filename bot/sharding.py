"""Which Discord shard a server belongs to, and which shards one bot process runs.

Discord sends each server's events, its slash commands and button presses included, only to
the connection of that server's shard: ``(guild_id >> 22) % shard_count``. Several processes
can run one bot, each some of its shards (SHARD_COUNT, SHARD_IDS). Nothing here imports
discord.py, so the job side can ask which process's servers a job belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a server's events (Discord's rule, as discord.py computes it
    for ``Guild.shard_id``)."""
    if shard_count < 1:
        raise ValueError(f"shard_count must be 1 or more, not {shard_count}")
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class ShardSet:
    """The shards one process runs (``ids``), out of the ``count`` the bot runs in all."""

    count: int
    ids: frozenset[int]

    @classmethod
    def of(cls, count: int, ids: Iterable[int] | None = None) -> ShardSet:
        """``ids=None``: every shard, as a process without SHARD_IDS runs."""
        chosen = frozenset(range(count) if ids is None else ids)
        if count < 1 or not chosen or not all(0 <= i < count for i in chosen):
            raise ValueError(f"shards {sorted(chosen)} are not a set of 0 to {count - 1}")
        return cls(count, chosen)

    @property
    def is_whole_bot(self) -> bool:
        """This process runs every shard: it receives every server's events."""
        return len(self.ids) == self.count

    def owns(self, guild_id: int | None) -> bool:
        """Whether this process receives the server's events (``None``, a DM: shard 0's)."""
        if guild_id is None:
            return 0 in self.ids
        return shard_of(guild_id, self.count) in self.ids

    def __str__(self) -> str:
        word = "shard" if len(self.ids) == 1 else "shards"
        return f"{word} {', '.join(str(i) for i in sorted(self.ids))} of {self.count}"
