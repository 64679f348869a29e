"""The video settings: defaults, values, refusals, and where the folders go."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

BASE = {"DISCORD_TOKEN": "discord-token", "RUNCOMFY_API_TOKEN": "runcomfy-token"}
MIB = 1024 * 1024


def settings(**env: str):
    return load_settings({**BASE, **env}, base_dir=Path("/srv/bot"))


def test_defaults_and_folders_beside_the_database() -> None:
    loaded = settings(DATABASE_URL="sqlite:////var/lib/bot/jobs.db")
    media = loaded.media
    assert media.download_timeout_seconds == 600
    assert media.video_cache_bytes == 2048 * MIB
    assert (media.fit_max_parallel, media.fit_time_limit_seconds) == (1, 300)
    assert loaded.downloads_folder == Path("/var/lib/bot/downloads")
    assert loaded.video_cache_folder == Path("/var/lib/bot/videos")


def test_values_are_read() -> None:
    media = settings(
        DOWNLOAD_TIMEOUT_SECONDS="90",
        VIDEO_CACHE_MB="512",
        FIT_MAX_PARALLEL="2",
        FIT_TIME_LIMIT_SECONDS="120",
    ).media
    assert media.download_timeout_seconds == 90
    assert media.video_cache_bytes == 512 * MIB
    assert (media.fit_max_parallel, media.fit_time_limit_seconds) == (2, 120)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DOWNLOAD_TIMEOUT_SECONDS", "0"),
        ("VIDEO_CACHE_MB", "0"),
        ("VIDEO_CACHE_MB", "lots"),
        ("FIT_MAX_PARALLEL", "0"),
        ("FIT_TIME_LIMIT_SECONDS", "-1"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name} is '{value}', but it must be"):
        settings(**{name: value})
