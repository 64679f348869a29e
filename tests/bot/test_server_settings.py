"""Per-server settings: ranges, persistence (in SQLite and PostgreSQL alike), defaults and
where each value came from."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.config import ConfigError, load_settings
from bot.server_settings import SPECS, ServerSettings, Setting, SettingValueError, Source
from bot.server_settings_registry import ServerSettingsRegistry, SettingsStorage
from bot.store.opening import Storage
from tests.bot.store.backends import StoreBackend

DEFAULTS = ServerSettings(moderator_role_ids=frozenset({7}), max_active_per_user=2)


@pytest.fixture
async def storage(backend: StoreBackend) -> AsyncIterator[Storage]:
    storage = await backend.open()
    yield storage
    await storage.close()


@pytest.fixture
def db(storage: Storage) -> SettingsStorage:
    return storage.settings


async def test_servers_start_with_the_defaults_and_keep_their_changes(db: SettingsStorage) -> None:
    registry = ServerSettingsRegistry(db, DEFAULTS, lambda: 1.0)
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

    reloaded = ServerSettingsRegistry(db, DEFAULTS, lambda: 2.0)
    await reloaded.load()
    assert reloaded.get(1) == changed
    assert reloaded.get(1).daily_budget_usd == Decimal("12.50")

    back = await reloaded.reset(1, [Setting.MAX_ACTIVE_PER_USER])
    assert back.max_active_per_user == 2
    assert back.source(Setting.MAX_ACTIVE_PER_USER) is Source.DEFAULT


async def test_turning_a_quota_off_overrides_a_default_quota(db: SettingsStorage) -> None:
    defaults = ServerSettings(daily_seconds_per_user=60)
    registry = ServerSettingsRegistry(db, defaults, lambda: 1.0)
    await registry.load()
    off = await registry.set(1, Setting.DAILY_SECONDS_PER_USER, 0, by=1)
    assert off.daily_seconds_per_user is None
    assert off.source(Setting.DAILY_SECONDS_PER_USER) is Source.SERVER


@pytest.mark.parametrize(
    ("setting", "value", "allowed"),
    [
        (Setting.MAX_ACTIVE_PER_USER, 0, "from 1 to 100"),
        (Setting.MAX_ACTIVE_PER_USER, 101, "from 1 to 100"),
        (Setting.MAX_ACTIVE_PER_SERVER, 1001, "from 1 to 1,000"),
        (Setting.DAILY_SECONDS_PER_USER, 2, "0 (no quota) or 3 to 86,400 seconds"),
        (Setting.DAILY_BUDGET_USD, Decimal("-1"), "0 (no budget) or $0.01 to $100,000"),
        (Setting.DAILY_BUDGET_USD, Decimal("1000000"), "0 (no budget) or $0.01 to $100,000"),
        (Setting.SOUND_DEFAULT, "maybe", "true or false"),
    ],
)
def test_out_of_range_values_are_refused_with_the_allowed_range(
    setting: Setting, value: object, allowed: str
) -> None:
    with pytest.raises(SettingValueError, match=re.escape(allowed)):
        SPECS[setting].check(value)


async def test_a_refused_value_is_not_stored(db: SettingsStorage) -> None:
    registry = ServerSettingsRegistry(db, DEFAULTS, lambda: 1.0)
    with pytest.raises(SettingValueError):
        await registry.set(1, Setting.MAX_ACTIVE_PER_USER, 0, by=1)
    assert registry.get(1) == DEFAULTS


def test_values_in_range_are_accepted() -> None:
    assert SPECS[Setting.MAX_ACTIVE_PER_USER].check(100) == 100
    assert SPECS[Setting.DAILY_SECONDS_PER_USER].check(3) == 3
    assert SPECS[Setting.DAILY_BUDGET_USD].check(Decimal("9.999")) == Decimal("10.00")
    assert SPECS[Setting.DAILY_BUDGET_USD].check(0) is None


# the one table


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda spec: spec.key.value)
def test_every_setting_is_declared_once_and_completely(spec) -> None:
    assert set(SPECS) == set(Setting)
    assert spec.attribute in ServerSettings.__dataclass_fields__
    default = spec.default
    assert ServerSettings().value(spec.key) == default
    assert spec.check(default) == default, "the default must be an allowed value"
    assert spec.show(default)
    assert spec.from_json(spec.to_json(default)) == default
    assert spec.label


@pytest.mark.parametrize(
    "spec", [spec for spec in SPECS.values() if spec.env], ids=lambda spec: spec.key.value
)
def test_env_defaults_use_the_same_rule_as_the_command(spec) -> None:
    env = {"RUNCOMFY_API_TOKEN": "t", "DISCORD_TOKEN": "d"}
    assert load_settings(env).server_defaults.value(spec.key) == spec.default
    with pytest.raises(ConfigError, match=re.escape(spec.allowed)):
        load_settings({**env, spec.env: "not a value!"})
