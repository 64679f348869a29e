"""The checked settings, grouped by the part of the bot that uses them.

They carry no defaults of their own: every value comes from `bot.config.loading`, which
takes each default from the table (`bot.config.table`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot.runcomfy.client import ExchangeObserver, RunComfyClient
from bot.runcomfy.gate import RequestGate
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.timing import Clock
from bot.secret import Secret
from bot.server_settings import ServerSettings


class PollMode(StrEnum):
    ADAPTIVE = "adaptive"
    FIXED = "fixed"


class LogFormat(StrEnum):
    TEXT = "text"
    """Lines for people (discord.py's format; coloured only on a terminal)."""
    JSON = "json"
    """One JSON object per line, for log collectors."""


@dataclass(frozen=True, slots=True)
class RunComfySettings:
    api_token: Secret
    api_base: str
    connect_timeout: float
    read_timeout: float
    max_requests_per_second: float
    max_concurrent_requests: int
    pricing: Pricing

    def client(
        self,
        session: aiohttp.ClientSession,
        clock: Clock,
        *,
        observer: ExchangeObserver | None = None,
    ) -> RunComfyClient:
        """The one client of the process, with its traffic gate, as these settings say."""
        gate = RequestGate(
            clock,
            rate_per_second=self.max_requests_per_second,
            max_concurrency=self.max_concurrent_requests,
        )
        return RunComfyClient(
            session,
            base_url=self.api_base,
            token=self.api_token,
            clock=clock,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            gate=gate,
            observer=observer,
        )


@dataclass(frozen=True, slots=True)
class JobSettings:
    """Limits and timings of the job tracker."""

    deadline_seconds: float
    max_active_total: int
    max_waiting_per_user: int
    poll_mode: PollMode
    poll_interval_seconds: float
    max_download_bytes: int


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Downloading, re-encoding and keeping finished videos."""

    download_timeout_seconds: float
    video_cache_bytes: int
    fit_time_limit_seconds: float
    fit_max_parallel: int


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token: Secret
    command_guild_ids: tuple[int, ...]
    shard_count: int | None
    """SHARD_COUNT: the shards all bot processes run together; None = Discord's advice."""
    shard_ids: tuple[int, ...] | None
    """SHARD_IDS: the shards this process runs; None = every shard."""


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """Where the health, readiness and metrics endpoint listens (HEALTH_PORT set)."""

    port: int
    """0 lets the system pick a free port (it is logged)."""
    host: str


@dataclass(frozen=True, slots=True)
class PostgresUrl:
    """A `postgresql://` DATABASE_URL; the whole URL is a `Secret` (it holds the password)."""

    dsn: Secret
    where: str
    """host:port/database, safe to show."""
    lease_seconds: float
    """How long a process holds a job without renewing: the fallback for a process that
    is alive but cut off (a dead one's are taken over at once, see `bot.store.pg_leases`)."""

    def secrets(self) -> list[str]:
        """The whole URL and its password, for the log's redaction."""
        url = self.dsn.reveal()
        password = urlsplit(url).password
        return [url, *([password] if password else [])]


@dataclass(frozen=True, slots=True)
class Settings:
    runcomfy: RunComfySettings
    jobs: JobSettings
    database_path: Path
    """The SQLite file; with PostgreSQL, only its folder is used (downloads, kept videos)."""
    discord: DiscordSettings | None
    postgres: PostgresUrl | None
    """Set when DATABASE_URL names a PostgreSQL server instead of a SQLite file."""
    log_level: str
    log_format: LogFormat
    server_defaults: ServerSettings
    """What every server gets until it changes something with /video settings."""
    media: MediaSettings
    health: HealthSettings | None
    """The HTTP health endpoint; None (HEALTH_PORT unset) serves none."""
    stop_grace_seconds: float
    """Real seconds a stopping bot lets videos on their way and submits in flight finish."""

    @property
    def downloads_folder(self) -> Path:
        """Videos being downloaded or re-encoded, beside the database."""
        return self.database_path.parent / "downloads"

    @property
    def video_cache_folder(self) -> Path:
        """The bot's own copies of delivered videos, beside the database."""
        return self.database_path.parent / "videos"
