"""Settings from the environment (and `.env`), validated once at start-up.

This is the only module that reads settings. A missing or invalid one raises
`ConfigError`, whose message is one line naming the setting and what to do.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import aiohttp

from bot.runcomfy.client import ExchangeObserver, RunComfyClient
from bot.runcomfy.gate import RequestGate
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.timing import Clock
from bot.secret import Secret
from bot.server_settings import SPECS, ServerSettings

DEFAULT_API_BASE = "https://model-api.runcomfy.net"
DEFAULT_DATABASE_URL = "sqlite:///data/bot.sqlite3"
DEFAULT_PRICING = Pricing()
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")

T = TypeVar("T")


class ConfigError(Exception):
    """A setting is missing or invalid. `str()` is the one line shown to the operator."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"{setting} {problem}")


class PollMode(StrEnum):
    ADAPTIVE = "adaptive"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class RunComfySettings:
    api_token: Secret
    api_base: str = DEFAULT_API_BASE
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_requests_per_second: float = 10.0
    max_concurrent_requests: int = 10
    pricing: Pricing = field(default_factory=Pricing)

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

    deadline_seconds: float = 30 * 60
    max_active_total: int = 50
    max_waiting_per_user: int = 5
    poll_mode: PollMode = PollMode.ADAPTIVE
    poll_interval_seconds: float = 5.0
    max_download_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Downloading, re-encoding and keeping finished videos."""

    download_timeout_seconds: float = 600.0
    video_cache_bytes: int = 2048 * 1024 * 1024
    fit_time_limit_seconds: float = 300.0
    fit_max_parallel: int = 1


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token: Secret
    command_guild_ids: tuple[int, ...] = ()
    shard_count: int | None = None
    """SHARD_COUNT: the shards all bot processes run together; None = Discord's advice."""
    shard_ids: tuple[int, ...] | None = None
    """SHARD_IDS: the shards this process runs; None = every shard."""


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """Where the health, readiness and metrics endpoint listens (HEALTH_PORT set)."""

    port: int
    """0 lets the system pick a free port (it is logged)."""
    host: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class PostgresUrl:
    """A `postgresql://` DATABASE_URL; the whole URL is a `Secret` (it holds the password)."""

    dsn: Secret
    where: str
    """host:port/database, safe to show."""
    lease_seconds: float = 15.0
    """How long a process holds a job without renewing; a dead process's jobs are taken
    over within about twice this (see `bot.store.pg_leases`)."""


@dataclass(frozen=True, slots=True)
class Settings:
    runcomfy: RunComfySettings
    jobs: JobSettings
    database_path: Path
    """The SQLite file; with PostgreSQL, only its folder is used (downloads, kept videos)."""
    discord: DiscordSettings | None = None
    postgres: PostgresUrl | None = None
    """Set when DATABASE_URL names a PostgreSQL server instead of a SQLite file."""
    log_level: str = "INFO"
    server_defaults: ServerSettings = field(default_factory=ServerSettings)
    """What every server gets until it changes something with /video settings."""
    media: MediaSettings = field(default_factory=MediaSettings)
    health: HealthSettings | None = None
    """The HTTP health endpoint; None (HEALTH_PORT unset) serves none."""

    @property
    def downloads_folder(self) -> Path:
        """Videos being downloaded or re-encoded, beside the database."""
        return self.database_path.parent / "downloads"

    @property
    def video_cache_folder(self) -> Path:
        """The bot's own copies of delivered videos, beside the database."""
        return self.database_path.parent / "videos"


def _raw(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _required_secret(env: Mapping[str, str], name: str, where: str) -> Secret:
    value = _raw(env, name)
    if value is None:
        raise ConfigError(name, f"is not set. Put {where} in .env (see .env.example).")
    if any(ch.isspace() for ch in value):
        raise ConfigError(
            name, "contains spaces. Paste the token alone, without quotes or prefixes."
        )
    return Secret(value)


def _parse(
    env: Mapping[str, str], name: str, default: T, convert: Callable[[str], T], allowed: str
) -> T:
    value = _raw(env, name)
    if value is None:
        return default
    try:
        return convert(value)
    except (ValueError, InvalidOperation):
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ConfigError(name, f"is {shown!r}, but it must be {allowed}.") from None


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        number = int(text)
        if not low <= number <= high:
            raise ValueError(text)
        return number

    return convert


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def convert(text: str) -> float:
        number = float(text)
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError(text)
        return number

    return convert


def _money(text: str) -> Decimal:
    amount = Decimal(text)
    if not amount.is_finite() or amount < 0:
        raise ValueError(text)
    return amount


def _id_list(text: str) -> tuple[int, ...]:
    ids = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ValueError(part)
        ids.append(int(part))
    return tuple(ids)


def _api_base(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme == "https" and parts.hostname:
        return text.rstrip("/")
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return text.rstrip("/")
    raise ValueError(text)


def database_path_from_url(url: str, base_dir: Path) -> Path:
    """`sqlite:///relative/path` or `sqlite:////absolute/path` → a filesystem path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(url)
    path = Path(url[len(prefix) :])
    return path if path.is_absolute() else base_dir / path


DATABASE_URL_ALLOWED = (
    "sqlite:///path/to/file.sqlite3 or postgresql://user:password@host:port/database"
)


def _postgres_url(url: str) -> PostgresUrl:
    """Check the parts a server needs; raises ValueError without the URL (it has a password)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("malformed") from None
    database = parts.path.lstrip("/")
    if not parts.hostname or not database or "/" in database:
        raise ValueError("missing host or database")
    where = f"{parts.hostname}:{port or 5432}/{database}"
    return PostgresUrl(dsn=Secret(url), where=where)


def _database(env: Mapping[str, str], base_dir: Path) -> tuple[Path, PostgresUrl | None]:
    """DATABASE_URL → the SQLite path (also the media folder's anchor) and maybe a server.

    Unlike other settings, a bad value is not echoed: it may contain a password."""
    default_path = database_path_from_url(DEFAULT_DATABASE_URL, base_dir)
    url = _raw(env, "DATABASE_URL")
    if url is None:
        return default_path, None
    scheme = url.partition(":")[0].lower()
    try:
        if scheme == "sqlite":
            return database_path_from_url(url, base_dir), None
        if scheme in ("postgresql", "postgres"):
            postgres = _postgres_url(url)
    except ValueError:
        raise ConfigError(
            "DATABASE_URL", f"is not a valid {scheme} URL; it must be {DATABASE_URL_ALLOWED}."
        ) from None
    if scheme in ("postgresql", "postgres"):
        lease = _parse(env, "JOB_LEASE_SECONDS", 15.0, _float_in(1, 300), "1 to 300 seconds")
        return default_path, replace(postgres, lease_seconds=lease)
    shown = scheme if scheme.isalnum() and len(scheme) <= 20 else "unknown"
    raise ConfigError(
        "DATABASE_URL", f"uses the {shown!r} scheme, but it must be {DATABASE_URL_ALLOWED}."
    )


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    need_discord: bool = True,
    base_dir: Path | None = None,
) -> Settings:
    """Read and check every setting; `need_discord=False` is for the command-line generator."""
    env = os.environ if env is None else env
    base_dir = base_dir or Path.cwd()

    runcomfy = RunComfySettings(
        api_token=_required_secret(env, "RUNCOMFY_API_TOKEN", "your RunComfy API token"),
        api_base=_parse(
            env,
            "RUNCOMFY_API_BASE",
            DEFAULT_API_BASE,
            _api_base,
            "an https:// URL such as " + DEFAULT_API_BASE,
        ),
        connect_timeout=_parse(
            env, "RUNCOMFY_CONNECT_TIMEOUT_SECONDS", 10.0, _float_in(0.1, 300), "0.1 to 300"
        ),
        read_timeout=_parse(
            env, "RUNCOMFY_READ_TIMEOUT_SECONDS", 30.0, _float_in(0.1, 600), "0.1 to 600"
        ),
        max_requests_per_second=_parse(
            env,
            "RUNCOMFY_MAX_REQUESTS_PER_SECOND",
            10.0,
            _float_in(0.1, 1000),
            "a number from 0.1 to 1000",
        ),
        max_concurrent_requests=_parse(
            env, "RUNCOMFY_MAX_CONCURRENT_REQUESTS", 10, _int_in(1, 200), "a whole number 1 to 200"
        ),
        pricing=Pricing(
            per_second=_parse(
                env,
                "PRICE_PER_SECOND",
                DEFAULT_PRICING.per_second,
                _money,
                "a dollar amount like 0.084",
            ),
            per_second_with_sound=_parse(
                env,
                "PRICE_PER_SECOND_WITH_SOUND",
                DEFAULT_PRICING.per_second_with_sound,
                _money,
                "a dollar amount like 0.126",
            ),
        ),
    )

    jobs = JobSettings(
        deadline_seconds=60
        * _parse(env, "JOB_DEADLINE_MINUTES", 30.0, _float_in(1, 24 * 60), "1 to 1440 minutes"),
        max_active_total=_parse(
            env, "MAX_ACTIVE_JOBS_TOTAL", 50, _int_in(1, 10000), "a whole number 1 to 10000"
        ),
        max_waiting_per_user=_parse(
            env, "MAX_WAITING_JOBS_PER_USER", 5, _int_in(0, 100), "a whole number 0 to 100"
        ),
        poll_mode=_parse(
            env, "POLL_MODE", PollMode.ADAPTIVE, lambda s: PollMode(s.lower()), "adaptive or fixed"
        ),
        poll_interval_seconds=_parse(
            env, "POLL_INTERVAL_SECONDS", 5.0, _float_in(0.5, 300), "0.5 to 300 seconds"
        ),
        max_download_bytes=1024
        * 1024
        * _parse(env, "MAX_DOWNLOAD_MB", 200, _int_in(1, 4096), "a whole number of MB, 1 to 4096"),
    )

    database_path, postgres = _database(env, base_dir)

    discord_settings = None
    if need_discord:
        shard_count, shard_ids = _shards(env)
        discord_settings = DiscordSettings(
            token=_required_secret(
                env, "DISCORD_TOKEN", "the bot token from the Discord developer portal"
            ),
            command_guild_ids=_parse(
                env, "DISCORD_GUILD_IDS", (), _id_list, "a comma-separated list of server ids"
            ),
            shard_count=shard_count,
            shard_ids=shard_ids,
        )

    return Settings(
        runcomfy=runcomfy,
        jobs=jobs,
        database_path=database_path,
        postgres=postgres,
        discord=discord_settings,
        server_defaults=server_defaults(env),
        media=media_settings(env),
        health=health_settings(env),
        log_level=_parse(
            env,
            "LOG_LEVEL",
            "INFO",
            _log_level,
            "one of DEBUG, INFO, WARNING, ERROR",
        ),
    )


def media_settings(env: Mapping[str, str]) -> MediaSettings:
    return MediaSettings(
        download_timeout_seconds=_parse(
            env, "DOWNLOAD_TIMEOUT_SECONDS", 600.0, _float_in(5, 3600), "5 to 3600 seconds"
        ),
        video_cache_bytes=1024
        * 1024
        * _parse(
            env, "VIDEO_CACHE_MB", 2048, _int_in(1, 1024 * 1024), "a whole number of MB, 1 or more"
        ),
        fit_time_limit_seconds=_parse(
            env, "FIT_TIME_LIMIT_SECONDS", 300.0, _float_in(1, 3600), "1 to 3600 seconds"
        ),
        fit_max_parallel=_parse(
            env, "FIT_MAX_PARALLEL", 1, _int_in(1, 16), "a whole number 1 to 16"
        ),
    )


MAX_SHARD_COUNT = 100_000


def _shards(env: Mapping[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    """SHARD_COUNT and SHARD_IDS: several processes run one bot, each some of its shards."""
    count = _parse(
        env,
        "SHARD_COUNT",
        None,
        _int_in(1, MAX_SHARD_COUNT),
        f"a whole number from 1 to {MAX_SHARD_COUNT} (how many shards all processes run)",
    )
    ids = _parse(
        env, "SHARD_IDS", None, _id_list, "a comma-separated list of shard numbers such as 0,1"
    )
    if ids is None:
        return count, None
    if count is None:
        raise ConfigError(
            "SHARD_IDS",
            "needs SHARD_COUNT, the number of shards all bot processes run together "
            "(e.g. SHARD_COUNT=2 and SHARD_IDS=0 here, SHARD_IDS=1 in the other process).",
        )
    if not ids:
        raise ConfigError("SHARD_IDS", "is empty; name this process's shards, such as 0,1.")
    for shard_id in ids:
        if shard_id >= count:
            raise ConfigError(
                "SHARD_IDS",
                f"names shard {shard_id}, but with SHARD_COUNT={count} the shards are "
                f"0 to {count - 1}.",
            )
        if ids.count(shard_id) > 1:
            raise ConfigError("SHARD_IDS", f"names shard {shard_id} twice.")
    return count, tuple(sorted(ids))


def health_settings(env: Mapping[str, str]) -> HealthSettings | None:
    """HEALTH_PORT turns the endpoint on; HEALTH_HOST (only read then) says where."""
    port = _parse(env, "HEALTH_PORT", None, _int_in(0, 65535), "a port number 0 to 65535")
    if port is None:
        return None
    host = _parse(env, "HEALTH_HOST", "127.0.0.1", _host, "an IP address or a host name")
    return HealthSettings(port=port, host=host)


def _host(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if len(text) > 253 or not HOST_NAME.fullmatch(text):
        raise ValueError(text)
    return text


def server_defaults(env: Mapping[str, str]) -> ServerSettings:
    """Every server's defaults, from the settings `SPECS` names (each read and checked as
    `/video settings` would check it)."""
    values = {
        spec.attribute: _parse(env, spec.env, spec.default, spec.parse_env, spec.allowed)
        for spec in SPECS.values()
        if spec.env is not None
    }
    return ServerSettings(**values)


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(text)
    return level
