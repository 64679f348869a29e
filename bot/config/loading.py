"""Settings from the environment (and `.env`), read and checked once at start-up.

This is the only place that reads settings, each through its entry in `bot.config.table`.
A missing or invalid one raises `ConfigError`, whose message is one line naming the
setting and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.config import table
from bot.config.database import PostgresServer
from bot.config.rules import ConfigError
from bot.config.settings import (
    DiscordSettings,
    HealthSettings,
    JobSettings,
    MediaSettings,
    PostgresUrl,
    RunComfySettings,
    Settings,
)
from bot.runcomfy.pricing import Pricing
from bot.server_settings import SPECS, ServerSettings

MIB = 1024 * 1024


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    need_discord: bool = True,
    base_dir: Path | None = None,
) -> Settings:
    """Read and check every setting; `need_discord=False` is for the command-line generator."""
    env = os.environ if env is None else env
    base_dir = base_dir or Path.cwd()
    runcomfy = runcomfy_settings(env)
    jobs = job_settings(env)
    database_path, postgres = database(env, base_dir)
    return Settings(
        runcomfy=runcomfy,
        jobs=jobs,
        database_path=database_path,
        postgres=postgres,
        discord=discord_settings(env) if need_discord else None,
        server_defaults=server_defaults(env),
        media=media_settings(env),
        health=health_settings(env),
        log_level=table.LOG_LEVEL.read(env),
        log_format=table.LOG_FORMAT.read(env),
        stop_grace_seconds=table.STOP_GRACE_SECONDS.read(env),
    )


def runcomfy_settings(env: Mapping[str, str]) -> RunComfySettings:
    return RunComfySettings(
        api_token=table.RUNCOMFY_API_TOKEN.required(env),
        api_base=table.RUNCOMFY_API_BASE.read(env),
        connect_timeout=table.RUNCOMFY_CONNECT_TIMEOUT_SECONDS.read(env),
        read_timeout=table.RUNCOMFY_READ_TIMEOUT_SECONDS.read(env),
        max_requests_per_second=table.RUNCOMFY_MAX_REQUESTS_PER_SECOND.read(env),
        max_concurrent_requests=table.RUNCOMFY_MAX_CONCURRENT_REQUESTS.read(env),
        pricing=Pricing(
            per_second=table.PRICE_PER_SECOND.read(env),
            per_second_with_sound=table.PRICE_PER_SECOND_WITH_SOUND.read(env),
        ),
    )


def job_settings(env: Mapping[str, str]) -> JobSettings:
    return JobSettings(
        deadline_seconds=60 * table.JOB_DEADLINE_MINUTES.read(env),
        max_active_total=table.MAX_ACTIVE_JOBS_TOTAL.read(env),
        max_waiting_per_user=table.MAX_WAITING_JOBS_PER_USER.read(env),
        poll_mode=table.POLL_MODE.read(env),
        poll_interval_seconds=table.POLL_INTERVAL_SECONDS.read(env),
        max_download_bytes=MIB * table.MAX_DOWNLOAD_MB.read(env),
    )


def database(env: Mapping[str, str], base_dir: Path) -> tuple[Path, PostgresUrl | None]:
    """DATABASE_URL → the SQLite path (also the media folder's anchor) and maybe a server;
    JOB_LEASE_SECONDS is read only for a server."""
    url = table.DATABASE_URL.read(env)
    if not isinstance(url, PostgresServer):
        return url.under(base_dir), None
    lease = table.JOB_LEASE_SECONDS.read(env)
    postgres = PostgresUrl(dsn=url.dsn, where=url.where, lease_seconds=lease)
    return table.DATABASE_URL.default.under(base_dir), postgres


def discord_settings(env: Mapping[str, str]) -> DiscordSettings:
    shard_count, shard_ids = shards(env)
    return DiscordSettings(
        token=table.DISCORD_TOKEN.required(env),
        command_guild_ids=table.DISCORD_GUILD_IDS.read(env),
        shard_count=shard_count,
        shard_ids=shard_ids,
    )


def shards(env: Mapping[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    """SHARD_COUNT and SHARD_IDS: several processes run one bot, each some of its shards."""
    count = table.SHARD_COUNT.read(env)
    ids = table.SHARD_IDS.read(env)
    name = table.SHARD_IDS.name
    if ids is None:
        return count, None
    if count is None:
        raise ConfigError(
            name,
            "needs SHARD_COUNT, the number of shards all bot processes run together "
            "(e.g. SHARD_COUNT=2 and SHARD_IDS=0 here, SHARD_IDS=1 in the other process).",
        )
    if not ids:
        raise ConfigError(name, "is empty; name this process's shards, such as 0,1.")
    for shard_id in ids:
        if shard_id >= count:
            raise ConfigError(
                name,
                f"names shard {shard_id}, but with SHARD_COUNT={count} the shards are "
                f"0 to {count - 1}.",
            )
        if ids.count(shard_id) > 1:
            raise ConfigError(name, f"names shard {shard_id} twice.")
    return count, tuple(sorted(ids))


def media_settings(env: Mapping[str, str]) -> MediaSettings:
    return MediaSettings(
        download_timeout_seconds=table.DOWNLOAD_TIMEOUT_SECONDS.read(env),
        video_cache_bytes=MIB * table.VIDEO_CACHE_MB.read(env),
        fit_time_limit_seconds=table.FIT_TIME_LIMIT_SECONDS.read(env),
        fit_max_parallel=table.FIT_MAX_PARALLEL.read(env),
    )


def health_settings(env: Mapping[str, str]) -> HealthSettings | None:
    """HEALTH_PORT turns the endpoint on; HEALTH_HOST (only read then) says where."""
    port = table.HEALTH_PORT.read(env)
    if port is None:
        return None
    return HealthSettings(port=port, host=table.HEALTH_HOST.read(env))


def server_defaults(env: Mapping[str, str]) -> ServerSettings:
    """Every server's defaults, each read and checked as `/video settings` would check it."""
    values = {
        SPECS[setting].attribute: entry.read(env)
        for setting, entry in table.SERVER_DEFAULTS.items()
    }
    return ServerSettings(**values)
