"""The bot's settings: every environment setting declared once (`bot.config.table`), read
and checked at start-up (`load_settings`), and documented from the same table
(`python -m bot.config.document` writes `.env.example` and `docs/configuration.md`).
"""

from bot.config.loading import load_settings
from bot.config.rules import ConfigError
from bot.config.settings import (
    DiscordSettings,
    HealthSettings,
    JobSettings,
    LogFormat,
    MediaSettings,
    PollMode,
    PostgresUrl,
    RunComfySettings,
    Settings,
)

__all__ = [
    "ConfigError",
    "DiscordSettings",
    "HealthSettings",
    "JobSettings",
    "LogFormat",
    "MediaSettings",
    "PollMode",
    "PostgresUrl",
    "RunComfySettings",
    "Settings",
    "load_settings",
]
