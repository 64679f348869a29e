"""SHARD_COUNT and SHARD_IDS: which of the bot's shards this process runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, DiscordSettings, load_settings

BASE = {"DISCORD_TOKEN": "discord-token", "RUNCOMFY_API_TOKEN": "runcomfy-token"}


def discord_settings(**env: str) -> DiscordSettings:
    loaded = load_settings({**BASE, **env}, base_dir=Path("/srv/bot"))
    assert loaded.discord is not None
    return loaded.discord


def refusal(**env: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, **env}, base_dir=Path("/srv/bot"))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_without_shard_settings_one_process_runs_every_shard() -> None:
    loaded = discord_settings()
    assert (loaded.shard_count, loaded.shard_ids) == (None, None)
    assert discord_settings(SHARD_COUNT="", SHARD_IDS=" ").shard_ids is None


def test_shard_count_alone_runs_every_shard_of_that_count() -> None:
    loaded = discord_settings(SHARD_COUNT="4")
    assert (loaded.shard_count, loaded.shard_ids) == (4, None)


def test_shard_ids_pick_this_processes_shards() -> None:
    loaded = discord_settings(SHARD_COUNT="4", SHARD_IDS=" 3, 1 ")
    assert (loaded.shard_count, loaded.shard_ids) == (4, (1, 3))
    assert discord_settings(SHARD_COUNT="1", SHARD_IDS="0").shard_ids == (0,)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT is '0', but it must be a whole number from 1 to"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT is 'two', but it must be a whole number"),
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "first"}, "a comma-separated list of shard numbers"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "-1"}, "a comma-separated list of shard numbers"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": ","}, "SHARD_IDS is empty"),
        (
            {"SHARD_COUNT": "2", "SHARD_IDS": "0,2"},
            "SHARD_IDS names shard 2, but with SHARD_COUNT=2 the shards are 0 to 1.",
        ),
        ({"SHARD_COUNT": "3", "SHARD_IDS": "1,1"}, "SHARD_IDS names shard 1 twice."),
    ],
)
def test_bad_shard_settings_get_one_clear_line(env: dict[str, str], expected: str) -> None:
    assert expected in refusal(**env)


def test_the_command_line_generator_ignores_shards() -> None:
    loaded = load_settings({"RUNCOMFY_API_TOKEN": "x", "SHARD_IDS": "5"}, need_discord=False)
    assert loaded.discord is None
