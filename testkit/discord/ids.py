"""Snowflake ids, timestamps and tokens shaped like Discord's."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1_420_070_400_000


class SnowflakeFactory:
    """Issues unique, time-ordered snowflakes: ms since 2015 << 22 | worker | process | increment.

    discord.py derives ``created_at`` (and the delete sub-rate-limit) from the id, so ids must
    carry the real creation time.
    """

    def __init__(self, *, worker: int = 1, process: int = 0) -> None:
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        if now_ms <= self._last_ms:
            self._increment += 1
            if self._increment > 0xFFF:
                self._last_ms += 1
                self._increment = 0
        else:
            self._last_ms = now_ms
            self._increment = 0
        return (
            (self._last_ms << 22) | (self._worker << 17) | (self._process << 12) | self._increment
        )

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A snowflake whose guild would live on ``shard_id`` of ``shard_count`` (Discord's
        rule, ``shard_of``): the timestamp moves on by up to ``shard_count - 1`` ms."""
        snowflake = self.next()
        step = (shard_id - shard_of(snowflake, shard_count)) % shard_count
        if step:
            self._last_ms += step
            self._increment = 0
            snowflake = (self._last_ms << 22) | (self._worker << 17) | (self._process << 12)
        return snowflake


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a guild's events: ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(moment: datetime) -> str:
    """Discord's timestamp format, e.g. ``2025-01-02T03:04:05.678000+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def utcnow() -> datetime:
    return datetime.now(UTC)


def interaction_token(interaction_id: int) -> str:
    """A long opaque token like Discord's (``aW50ZXJhY3Rpb246...``), unique per interaction."""
    prefix = base64.urlsafe_b64encode(f"interaction:{interaction_id}:".encode()).decode()
    return prefix.rstrip("=") + secrets.token_urlsafe(96)


def bucket_hash(name: str) -> str:
    """A stable 32-hex-char rate-limit bucket hash, as Discord sends in X-RateLimit-Bucket."""
    return hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()
