"""The table of settings: the one declaration `load_settings`, `.env.example` and
`docs/configuration.md` all come from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bot.config import load_settings, table
from bot.config.document import COMMAND, rendered
from bot.config.entries import EnvSetting
from bot.config.table import SECTIONS, SERVER_DEFAULTS
from bot.server_settings import SPECS

ROOT = Path(__file__).parents[2]
ENTRIES = [setting for section in SECTIONS for setting in section.settings]
TOKENS = {"DISCORD_TOKEN": "discord-token", "RUNCOMFY_API_TOKEN": "runcomfy-token"}


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers every name asked for."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self._values[name]

    def get(self, name: str, default: object = None) -> object:
        self.asked.add(name)
        return self._values.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


@pytest.mark.parametrize("path", sorted(rendered()), ids=str)
def test_the_written_files_are_what_the_table_renders(path: Path) -> None:
    written = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).exists() else ""
    assert written == rendered()[path], (
        f"{path} differs from bot/config/table.py; run `{COMMAND}` to write it again"
    )


def test_every_setting_read_is_declared_once_and_every_declared_one_is_read() -> None:
    names = [setting.name for setting in ENTRIES]
    assert len(names) == len(set(names))
    env = RecordingEnv(
        {
            **TOKENS,
            "DATABASE_URL": "postgresql://bot:pw@db:5432/kling",
            "HEALTH_PORT": "9102",
            "SHARD_COUNT": "2",
            "SHARD_IDS": "0",
        }
    )
    load_settings(env, base_dir=Path("/srv/bot"))
    assert env.asked == set(names)


def test_each_entry_is_named_in_the_table_as_it_is_in_the_environment() -> None:
    named = {name: value for name, value in vars(table).items() if isinstance(value, EnvSetting)}
    assert named
    assert all(setting.name == name for name, setting in named.items())


def test_every_server_setting_with_an_env_default_is_in_the_table() -> None:
    from_specs = {spec.env for spec in SPECS.values() if spec.env is not None}
    assert {entry.name for entry in SERVER_DEFAULTS.values()} == from_specs


@pytest.mark.parametrize(
    "setting", [s for s in ENTRIES if s.shown_default], ids=lambda setting: setting.name
)
def test_a_default_as_written_reads_back_as_the_default(
    setting: EnvSetting[object, object],
) -> None:
    assert setting.rule.parse(setting.shown_default) == setting.default


def test_the_example_file_filled_in_means_the_defaults() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    written = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert set(written) == {setting.name for setting in ENTRIES}
    base = Path("/srv/bot")
    filled = load_settings({**written, **TOKENS}, base_dir=base)
    assert filled == load_settings(TOKENS, base_dir=base)
