"""Every module in cogs/ is an extension that loads, unloads and reloads cleanly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from discord import app_commands

from bot.app import VideoBot, extensions
from tests.e2e.harness import World

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = (ROOT / "README.md").read_text() + (ROOT / "docs" / "using.md").read_text()
"""Where the commands are described for the people who type them."""


def command_names(bot: VideoBot) -> list[str]:
    """Every command's full name, subcommands included."""
    names: list[str] = []
    for command in bot.tree.get_commands():
        names.append(command.qualified_name)
        if isinstance(command, app_commands.Group):
            names.extend(child.qualified_name for child in command.walk_commands())
    return names


def assert_nothing_shadowed(bot: VideoBot) -> None:
    repeated = [name for name, count in Counter(command_names(bot)).items() if count > 1]
    assert repeated == []


def test_every_module_in_cogs_is_an_extension() -> None:
    assert set(extensions()) == {"cogs.video", "cogs.settings", "cogs.moderation", "cogs.session"}


async def test_all_extensions_are_loaded_and_nothing_is_shadowed(world: World) -> None:
    assert world.bot is not None
    assert set(world.bot.extensions) == set(extensions())
    names = command_names(world.bot)
    assert "video generate" in names
    assert "video settings show" in names
    assert {"video block", "video unblock", "video strikes"} <= set(names)
    assert {"session start", "session end", "session leaderboard"} <= set(names)
    assert_nothing_shadowed(world.bot)


@pytest.mark.parametrize("extension", extensions())
async def test_unload_and_reload_each_extension(world: World, extension: str) -> None:
    bot = world.bot
    assert bot is not None
    before = sorted(command_names(bot))
    await bot.unload_extension(extension)
    assert extension not in bot.extensions
    assert sorted(command_names(bot)) != before, "unloading takes its commands away"
    await bot.load_extension(extension)
    assert sorted(command_names(bot)) == before
    assert_nothing_shadowed(bot)
    await bot.reload_extension(extension)
    assert sorted(command_names(bot)) == before
    assert_nothing_shadowed(bot)


async def test_the_settings_commands_answer_after_the_video_extension_reloads(
    world: World,
) -> None:
    assert world.bot is not None
    await world.bot.reload_extension("cogs.video")
    answer = await world.answer(await world.command("settings show", world.admin))
    assert answer.embeds[0]["title"] == "Video settings for this server"
    job_id, _ = await world.started_job(await world.generate())
    assert job_id == 1


async def test_reloading_keeps_one_status_board_on_the_tracker(world: World) -> None:
    """The board (and the strike and entry watches) are the bot's, not an extension's:
    reloading never leaves a dead one."""
    bot = world.bot
    assert bot is not None
    for extension in extensions():
        await bot.reload_extension(extension)
    assert bot.tracker.observers == (
        bot.metrics,
        bot.board,
        bot.strikes,
        bot.stranded,
        bot.session_side.watch,
    )


async def test_every_command_is_documented(world: World) -> None:
    """Each command a member can type is in the README's tables, or (the server
    settings) in docs/using.md, with its own name: a command added or renamed without
    its line fails here."""
    assert world.bot is not None
    documented = DOCUMENTED
    leaves = [
        child.qualified_name
        for command in world.bot.tree.get_commands()
        if isinstance(command, app_commands.Group)
        for child in command.walk_commands()
        if not isinstance(child, app_commands.Group)
    ]
    assert len(leaves) > 20
    missing = [name for name in leaves if f"`/{name}" not in documented]
    assert missing == []
