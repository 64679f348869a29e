"""Every environment setting, declared once: name, rule (type and range), default, what
it does, and its section.

`load_settings` reads these entries; `python -m bot.config.document` writes `.env.example`
and `docs/configuration.md` from them. A default that a part standing on its own also
needs is taken from that part, so the two cannot drift: the job tracker's limits from
`TrackerSettings`, the prices from `Pricing`, and every server's defaults (their names,
defaults and ranges too) from the per-server table `bot.server_settings.SPECS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.config.database import DATABASE_URL_RULE, SqliteFile
from bot.config.entries import EnvSetting, Required, Section
from bot.config.rules import (
    HOST,
    HTTPS_URL,
    MONEY,
    TOKEN,
    Rule,
    either,
    id_list,
    number,
    one_of,
    seconds,
    whole,
)
from bot.config.settings import LogFormat, PollMode
from bot.jobs.tracker_settings import TrackerSettings
from bot.runcomfy.pricing import Pricing
from bot.server_settings import SPECS, Setting

TRACKER = TrackerSettings()
PRICING = Pricing()
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

DISCORD_TOKEN = EnvSetting(
    "DISCORD_TOKEN",
    TOKEN,
    Required("the bot token from the Discord developer portal"),
    "The bot token from https://discord.com/developers/applications → your app → Bot → "
    "Reset Token.",
)
RUNCOMFY_API_TOKEN = EnvSetting(
    "RUNCOMFY_API_TOKEN",
    TOKEN,
    Required("your RunComfy API token"),
    "Your RunComfy API token (RunComfy → Profile → API token).",
)

DISCORD_GUILD_IDS = EnvSetting(
    "DISCORD_GUILD_IDS",
    id_list("a comma-separated list of server ids"),
    (),
    "Servers to register the slash commands in directly (they appear there at once); "
    "empty registers them globally, which can take up to an hour.",
)
SHARD_COUNT = EnvSetting(
    "SHARD_COUNT",
    whole(1, 100_000, "a whole number from {low} to {high} (how many shards all processes run)"),
    None,
    'Several processes as one bot (large bots; see docs/operations.md, "Shards"): how '
    "many shards all processes run together. Empty: this one process runs every shard, as "
    "many as Discord recommends.",
)
SHARD_IDS = EnvSetting(
    "SHARD_IDS",
    id_list("a comma-separated list of shard numbers such as 0,1"),
    None,
    "The shards this process runs, each below SHARD_COUNT (which it needs), e.g. "
    "SHARD_COUNT=2 with SHARD_IDS=0 in one process and SHARD_IDS=1 in the other. Empty: "
    "every shard.",
)

SERVER_DEFAULTS_DO: Mapping[Setting, str] = {
    Setting.MODERATOR_ROLES: "Role ids whose members may cancel and delete anyone's job "
    "(besides members with Manage Messages), e.g. 123456789012345678,234567890123456789.",
    Setting.CHANNELS: "Channels where videos may be made (channel ids); empty: every channel.",
    Setting.SOUND_DEFAULT: "Whether videos get sound when the member does not say (sound "
    "costs more).",
    Setting.DAILY_SECONDS_PER_USER: "Seconds of video one member may make per day (UTC); 0 "
    "or empty: no quota.",
    Setting.DAILY_BUDGET_USD: "Dollars one server may spend per day (UTC); 0 or empty: no budget.",
    Setting.MAX_ACTIVE_PER_USER: "Jobs of one member running at RunComfy at once; more wait "
    "in the bot's fair line.",
    Setting.MAX_ACTIVE_PER_SERVER: "Jobs of one server running at RunComfy at once.",
    Setting.STRIKES_TO_BLOCK: "Videos RunComfy refuses for their content within 24 hours "
    "that block a member for STRIKE_BLOCK_HOURS; 0: never.",
    Setting.STRIKE_BLOCK_HOURS: "Hours a member is blocked once strikes block them.",
}
"""What each per-server setting with an `.env` default does; the rest comes from `SPECS`."""


def _server_default(setting: Setting, does: str) -> EnvSetting[Any, Any]:
    spec = SPECS[setting]
    if spec.env is None:
        raise ValueError(f"{setting} has no .env setting")
    return EnvSetting(spec.env, Rule(spec.parse_env, spec.allowed), spec.default, does)


SERVER_DEFAULTS: Mapping[Setting, EnvSetting[Any, Any]] = {
    setting: _server_default(setting, does) for setting, does in SERVER_DEFAULTS_DO.items()
}

RUNCOMFY_API_BASE = EnvSetting(
    "RUNCOMFY_API_BASE",
    HTTPS_URL,
    "https://model-api.runcomfy.net",
    "RunComfy's Model API; plain http:// only for a local emulator (127.0.0.1, localhost).",
)
RUNCOMFY_CONNECT_TIMEOUT_SECONDS = EnvSetting(
    "RUNCOMFY_CONNECT_TIMEOUT_SECONDS",
    number(0.1, 300),
    10.0,
    "Seconds to wait for a connection to RunComfy, per request.",
)
RUNCOMFY_READ_TIMEOUT_SECONDS = EnvSetting(
    "RUNCOMFY_READ_TIMEOUT_SECONDS",
    number(0.1, 600),
    30.0,
    "Seconds to wait for RunComfy's answer, per request.",
)
RUNCOMFY_MAX_REQUESTS_PER_SECOND = EnvSetting(
    "RUNCOMFY_MAX_REQUESTS_PER_SECOND",
    number(0.1, 1000, "a number from {low:g} to {high:g}"),
    10.0,
    "Cap on this process's traffic to RunComfy, shared by every job (divide it between "
    "processes that share the work).",
)
RUNCOMFY_MAX_CONCURRENT_REQUESTS = EnvSetting(
    "RUNCOMFY_MAX_CONCURRENT_REQUESTS",
    whole(1, 200),
    10,
    "Requests to RunComfy in flight at once, from every job.",
)
PRICE_PER_SECOND = EnvSetting(
    "PRICE_PER_SECOND",
    MONEY,
    PRICING.per_second,
    "US dollars per second of video without sound, for the cost estimates shown.",
)
PRICE_PER_SECOND_WITH_SOUND = EnvSetting(
    "PRICE_PER_SECOND_WITH_SOUND",
    MONEY,
    PRICING.per_second_with_sound,
    "US dollars per second of video with sound, for the cost estimates shown.",
)

DATABASE_URL = EnvSetting(
    "DATABASE_URL",
    DATABASE_URL_RULE,
    SqliteFile(Path("data/bot.sqlite3")),
    "Where jobs and server settings are kept so they survive restarts: a SQLite file "
    "(relative to the working directory; the folder is created on first run), or a "
    "PostgreSQL database, postgresql://user:password@host:5432/dbname, which several bot "
    'processes can share (see docs/operations.md, "Scale-out").',
)
JOB_LEASE_SECONDS = EnvSetting(
    "JOB_LEASE_SECONDS",
    seconds(1, 300),
    15.0,
    "Only with PostgreSQL: seconds a process holds a job without renewing it. A process "
    "that dies is seen at once (its liveness lock goes with it) and its jobs are taken "
    "over within about a second; the lease is for one alive but cut off from the "
    "database, whose jobs are taken over within about twice this.",
)
JOB_DEADLINE_MINUTES = EnvSetting(
    "JOB_DEADLINE_MINUTES",
    number(1, 24 * 60, "{low:g} to {high:g} minutes"),
    TRACKER.deadline_seconds / 60,
    "After this long the requester is told RunComfy is taking longer than expected; the "
    "bot keeps watching the job and still posts the video (with a mention) if it finishes. "
    "A job still queued then is cancelled at RunComfy, which costs nothing.",
)
MAX_ACTIVE_JOBS_TOTAL = EnvSetting(
    "MAX_ACTIVE_JOBS_TOTAL",
    whole(1, 10_000),
    TRACKER.max_active_total,
    "Jobs running at RunComfy at once, across every server (and every process sharing a "
    "PostgreSQL database); more wait in the bot's fair line.",
)
MAX_WAITING_JOBS_PER_USER = EnvSetting(
    "MAX_WAITING_JOBS_PER_USER",
    whole(0, 100),
    TRACKER.max_waiting_per_user,
    "Jobs one member may have waiting in the bot's line.",
)
POLL_MODE = EnvSetting(
    "POLL_MODE",
    either(PollMode),
    PollMode.ADAPTIVE,
    "adaptive polls RunComfy sparsely early and densely near the expected finish; fixed "
    "polls every POLL_INTERVAL_SECONDS.",
)
POLL_INTERVAL_SECONDS = EnvSetting(
    "POLL_INTERVAL_SECONDS",
    seconds(0.5, 300),
    5.0,
    "Only for POLL_MODE=fixed (and the command line): seconds between status checks.",
)
MAX_DOWNLOAD_MB = EnvSetting(
    "MAX_DOWNLOAD_MB",
    whole(1, 4096, "a whole number of MB, {low} to {high}"),
    200,
    "Largest video the bot downloads to attach (or re-encode); a bigger one is posted as a link.",
)

DOWNLOAD_TIMEOUT_SECONDS = EnvSetting(
    "DOWNLOAD_TIMEOUT_SECONDS",
    seconds(5, 3600),
    600.0,
    "A download of a finished video that takes longer than this, in total, is given up "
    "(the link is posted).",
)
VIDEO_CACHE_MB = EnvSetting(
    "VIDEO_CACHE_MB",
    whole(1, 1024 * 1024, "a whole number of MB, {low} or more"),
    2048,
    "The bot keeps its own copy of every delivered video (in videos/ beside the database), "
    "so a re-post after an outage or a restart needs no new download; oldest unused go "
    "first.",
)
FIT_MAX_PARALLEL = EnvSetting(
    "FIT_MAX_PARALLEL",
    whole(1, 16),
    1,
    "A video over the server's upload limit is re-encoded to fit; this many at once (each "
    "keeps about one core busy).",
)
FIT_TIME_LIMIT_SECONDS = EnvSetting(
    "FIT_TIME_LIMIT_SECONDS",
    seconds(1, 3600),
    300.0,
    "A re-encode running longer than this is stopped and the link posted instead.",
)

HEALTH_PORT = EnvSetting(
    "HEALTH_PORT",
    whole(0, 65535, "a port number {low} to {high}"),
    None,
    "A port for GET /healthz (alive), /readyz (Discord connected, database answering, jobs "
    "running) and /metrics (Prometheus). Empty: no endpoint; 0: any free port (logged).",
)
HEALTH_HOST = EnvSetting(
    "HEALTH_HOST",
    HOST,
    "127.0.0.1",
    "Where the health endpoint listens (only with HEALTH_PORT): 127.0.0.1 keeps it on this "
    "machine, 0.0.0.0 opens it to the network (e.g. inside a container).",
)

LOG_LEVEL = EnvSetting(
    "LOG_LEVEL",
    one_of(LOG_LEVELS),
    "INFO",
    "How much the bot logs.",
)
LOG_FORMAT = EnvSetting(
    "LOG_FORMAT",
    either(LogFormat),
    LogFormat.TEXT,
    "text: lines for people (coloured only on a terminal); json: one JSON object per line "
    "(time, level, logger, message, and job_id, server_id, request_id where known) for a "
    "log collector.",
)
STOP_GRACE_SECONDS = EnvSetting(
    "STOP_GRACE_SECONDS",
    seconds(0, 600),
    TRACKER.shutdown_grace,
    "On SIGTERM or Ctrl-C, how long the bot lets videos on their way to Discord and "
    'submits in flight finish before it stops (see docs/operations.md, "Stopping"). '
    "Keep your service manager's stop timeout above it.",
)

SECTIONS = (
    Section("Required", (DISCORD_TOKEN, RUNCOMFY_API_TOKEN)),
    Section("Discord", (DISCORD_GUILD_IDS, SHARD_COUNT, SHARD_IDS)),
    Section(
        "Defaults for every server (each server can change them with /video settings)",
        tuple(SERVER_DEFAULTS.values()),
    ),
    Section(
        "RunComfy",
        (
            RUNCOMFY_API_BASE,
            RUNCOMFY_CONNECT_TIMEOUT_SECONDS,
            RUNCOMFY_READ_TIMEOUT_SECONDS,
            RUNCOMFY_MAX_REQUESTS_PER_SECOND,
            RUNCOMFY_MAX_CONCURRENT_REQUESTS,
            PRICE_PER_SECOND,
            PRICE_PER_SECOND_WITH_SOUND,
        ),
    ),
    Section(
        "Jobs",
        (
            DATABASE_URL,
            JOB_LEASE_SECONDS,
            JOB_DEADLINE_MINUTES,
            MAX_ACTIVE_JOBS_TOTAL,
            MAX_WAITING_JOBS_PER_USER,
            POLL_MODE,
            POLL_INTERVAL_SECONDS,
            MAX_DOWNLOAD_MB,
        ),
    ),
    Section(
        "Videos",
        (DOWNLOAD_TIMEOUT_SECONDS, VIDEO_CACHE_MB, FIT_MAX_PARALLEL, FIT_TIME_LIMIT_SECONDS),
    ),
    Section(
        "Health, metrics and stopping (for orchestrators)",
        (HEALTH_PORT, HEALTH_HOST, STOP_GRACE_SECONDS),
    ),
    Section("Logging", (LOG_LEVEL, LOG_FORMAT)),
)
