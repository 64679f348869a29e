"""Settings: defaults, validation, and one clear line for every bad value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import ConfigError, PollMode, load_settings
from bot.config.table import RUNCOMFY_API_BASE

BASE = {"DISCORD_TOKEN": "discord-token", "RUNCOMFY_API_TOKEN": "runcomfy-token"}


def settings(**env: str):
    return load_settings({**BASE, **env}, base_dir=Path("/srv/bot"))


def test_defaults() -> None:
    loaded = settings()
    assert loaded.runcomfy.api_base == RUNCOMFY_API_BASE.default == "https://model-api.runcomfy.net"
    assert loaded.database_path == Path("/srv/bot/data/bot.sqlite3")
    assert loaded.discord is not None
    assert loaded.server_defaults.moderator_role_ids == frozenset()
    assert loaded.jobs.deadline_seconds == 1800
    defaults = loaded.server_defaults
    assert (defaults.max_active_per_user, defaults.max_active_per_server) == (2, 10)
    assert (loaded.jobs.max_active_total, loaded.jobs.max_waiting_per_user) == (50, 5)
    assert loaded.jobs.poll_mode is PollMode.ADAPTIVE
    assert loaded.runcomfy.pricing.per_second == Decimal("0.084")
    assert loaded.runcomfy.pricing.per_second_with_sound == Decimal("0.126")


def test_values_are_read() -> None:
    loaded = settings(
        RUNCOMFY_API_BASE="https://example.test/",
        DATABASE_URL="sqlite:////var/lib/bot/jobs.db",
        MODERATOR_ROLE_IDS="11, 22",
        JOB_DEADLINE_MINUTES="45",
        MAX_ACTIVE_JOBS_PER_USER="3",
        POLL_MODE="FIXED",
        POLL_INTERVAL_SECONDS="2",
        LOG_LEVEL="debug",
    )
    assert loaded.runcomfy.api_base == "https://example.test"
    assert loaded.database_path == Path("/var/lib/bot/jobs.db")
    assert loaded.discord is not None
    assert loaded.server_defaults.moderator_role_ids == frozenset({11, 22})
    assert loaded.jobs.deadline_seconds == 45 * 60
    assert loaded.server_defaults.max_active_per_user == 3
    assert loaded.jobs.poll_mode is PollMode.FIXED
    assert loaded.jobs.poll_interval_seconds == 2.0
    assert loaded.log_level == "DEBUG"


@pytest.mark.parametrize("name", ["DISCORD_TOKEN", "RUNCOMFY_API_TOKEN"])
def test_missing_tokens_are_named(name: str) -> None:
    env = {key: value for key, value in BASE.items() if key != name}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.setting == name
    assert str(caught.value).startswith(f"{name} is not set")
    assert ".env" in str(caught.value)


def test_generator_needs_no_discord_token() -> None:
    loaded = load_settings({"RUNCOMFY_API_TOKEN": "x"}, need_discord=False)
    assert loaded.discord is None


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("RUNCOMFY_API_BASE", "http://model-api.runcomfy.net", "https:// URL"),
        ("RUNCOMFY_API_BASE", "not a url", "https:// URL"),
        ("DATABASE_URL", "mysql://db/bot", "sqlite:///path/to/file.sqlite3 or postgresql://"),
        ("DATABASE_URL", "sqlite:///", "not a valid sqlite URL"),
        ("DATABASE_URL", "postgresql://user:pw@host", "not a valid postgresql URL"),
        ("MODERATOR_ROLE_IDS", "admins", "comma-separated list of role ids"),
        ("JOB_DEADLINE_MINUTES", "0", "1 to 1440 minutes"),
        ("MAX_ACTIVE_JOBS_PER_USER", "two", "a whole number from 1 to 100"),
        ("POLL_MODE", "sometimes", "adaptive or fixed"),
        ("PRICE_PER_SECOND", "-1", "a dollar amount"),
        ("LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR"),
        ("DISCORD_TOKEN", "Bot abc", "contains spaces"),
    ],
)
def test_bad_values_get_one_clear_line(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**{name: value})
    message = str(caught.value)
    assert message.startswith(name)
    assert expected in message
    assert "\n" not in message


def test_plain_http_is_allowed_only_for_a_local_emulator() -> None:
    assert settings(RUNCOMFY_API_BASE="http://127.0.0.1:8123").runcomfy.api_base == (
        "http://127.0.0.1:8123"
    )


def test_tokens_never_show_in_reprs() -> None:
    loaded = settings()
    assert "discord-token" not in repr(loaded)
    assert "runcomfy-token" not in repr(loaded)
    assert "runcomfy-token" not in str(loaded.runcomfy)


def test_a_postgresql_url_selects_a_server_and_keeps_media_beside_the_default_path() -> None:
    loaded = settings(DATABASE_URL="postgresql://bot:s3cret@db.internal:6543/kling")
    assert loaded.postgres is not None
    assert loaded.postgres.dsn.reveal() == "postgresql://bot:s3cret@db.internal:6543/kling"
    assert loaded.postgres.where == "db.internal:6543/kling"
    assert "s3cret" not in repr(loaded.postgres)
    assert loaded.database_path == Path("/srv/bot/data/bot.sqlite3")
    assert settings().postgres is None


@pytest.mark.parametrize(
    "url",
    [
        "mysql://bot:s3cret@db/kling",
        "postgresql://bot:s3cret@db:notaport/kling",
        "postgresql://bot:s3cret@/kling",
    ],
)
def test_a_refused_database_url_never_shows_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(DATABASE_URL=url)
    assert "s3cret" not in str(caught.value)
    assert str(caught.value).startswith("DATABASE_URL")


def test_the_health_endpoint_is_off_unless_a_port_is_set() -> None:
    assert settings().health is None
    assert settings(HEALTH_HOST="0.0.0.0").health is None
    health = settings(HEALTH_PORT="9102").health
    assert health is not None
    assert (health.host, health.port) == ("127.0.0.1", 9102)
    health = settings(HEALTH_PORT="0", HEALTH_HOST="::").health
    assert health is not None
    assert (health.host, health.port) == ("::", 0)
    health = settings(HEALTH_PORT="9102", HEALTH_HOST="bot-1.internal").health
    assert health is not None
    assert health.host == "bot-1.internal"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HEALTH_PORT", "http", "a port number 0 to 65535"),
        ("HEALTH_PORT", "70000", "a port number 0 to 65535"),
        ("HEALTH_HOST", "http://0.0.0.0", "an IP address or a host name"),
        ("HEALTH_HOST", "-bad-", "an IP address or a host name"),
    ],
)
def test_bad_health_settings_get_one_clear_line(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**{"HEALTH_PORT": "9102", name: value})
    assert str(caught.value).startswith(name)
    assert expected in str(caught.value)
