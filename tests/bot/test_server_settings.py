"""Per-server settings: ranges, persistence, defaults and where each value came from."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db import Database
from bot.server_settings import (
    ServerSettings,
    ServerSettingsRegistry,
    ServerSettingsStore,
    Setting,
    SettingValueError,
    Source,
    check_daily_budget,
    check_daily_seconds,
    check_max_active_per_server,
    check_max_active_per_user,
)

DEFAULTS = ServerSettings(moderator_role_ids=frozenset({7}), max_active_per_user=2)


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def test_servers_start_with_the_defaults_and_keep_their_changes(db: Database) -> None:
    registry = ServerSettingsRegistry(ServerSettingsStore(db), DEFAULTS, lambda: 1.0)
    await registry.load()
    assert registry.get(1) == DEFAULTS
    assert registry.get(1).source(Setting.MAX_ACTIVE_PER_USER) is Source.DEFAULT

    await registry.set(1, Setting.MAX_ACTIVE_PER_USER, 4, by=99)
    await registry.set(1, Setting.CHANNELS, frozenset({11, 12}), by=99)
    await registry.set(1, Setting.DAILY_BUDGET_USD, Decimal("12.50"), by=99)
    changed = registry.get(1)
    assert changed.max_active_per_user == 4
    assert changed.channel_ids == {11, 12}
    assert changed.source(Setting.MAX_ACTIVE_PER_USER) is Source.SERVER
    assert changed.moderator_role_ids == {7}, "untouched settings keep the default"
    assert registry.get(2) == DEFAULTS, "other servers are not affected"

    reloaded = ServerSettingsRegistry(ServerSettingsStore(db), DEFAULTS, lambda: 2.0)
    await reloaded.load()
    assert reloaded.get(1) == changed
    assert reloaded.get(1).daily_budget_usd == Decimal("12.50")

    back = await reloaded.reset(1, [Setting.MAX_ACTIVE_PER_USER])
    assert back.max_active_per_user == 2
    assert back.source(Setting.MAX_ACTIVE_PER_USER) is Source.DEFAULT


async def test_turning_a_quota_off_overrides_a_default_quota(db: Database) -> None:
    defaults = ServerSettings(daily_seconds_per_user=60)
    registry = ServerSettingsRegistry(ServerSettingsStore(db), defaults, lambda: 1.0)
    await registry.load()
    off = await registry.set(1, Setting.DAILY_SECONDS_PER_USER, check_daily_seconds(0), by=1)
    assert off.daily_seconds_per_user is None
    assert off.source(Setting.DAILY_SECONDS_PER_USER) is Source.SERVER


@pytest.mark.parametrize(
    ("check", "value", "allowed"),
    [
        (check_max_active_per_user, 0, "from 1 to 50"),
        (check_max_active_per_user, 51, "from 1 to 50"),
        (check_max_active_per_server, 1001, "from 1 to 1,000"),
        (check_daily_seconds, 2, "0 (no quota) or 3 to 86,400 seconds"),
        (check_daily_budget, Decimal("-1"), "0 (no budget) or $0.01 to $100,000"),
        (check_daily_budget, Decimal("1000000"), "0 (no budget) or $0.01 to $100,000"),
    ],
)
def test_out_of_range_values_are_refused_with_the_allowed_range(check, value, allowed) -> None:
    with pytest.raises(SettingValueError, match=re.escape(allowed)):
        check(value)


def test_values_in_range_are_accepted() -> None:
    assert check_max_active_per_user(50) == 50
    assert check_daily_seconds(3) == 3
    assert check_daily_budget(Decimal("9.999")) == Decimal("10.00")
    assert check_daily_budget(0) is None
