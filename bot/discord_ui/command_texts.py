"""The slash commands in every catalog language: a `Translator` that discord.py asks for
each name, description and choice before the commands are synced.

Keys follow the command tree (`command.video.generate.description`,
`command.video.generate.prompt.name`, `choice.16_9`), so the code keeps Discord's
required English defaults and the catalogs add `name_localizations` and
`description_localizations`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.i18n import FALLBACK, Languages

Command = app_commands.Command[Any, ..., Any] | app_commands.Group


def command_key(command: Command, part: str) -> str:
    return f"command.{command.qualified_name.replace(' ', '.')}.{part}"


def parameter_key(parameter: app_commands.Parameter, part: str) -> str:
    return command_key(parameter.command, f"{parameter.name}.{part}")


def choice_key(choice: app_commands.Choice[Any]) -> str:
    return "choice." + str(choice.value).lower().replace(":", "_").replace(" ", "_")


def key_for(context: app_commands.TranslationContextTypes) -> str | None:
    """The catalog key of what discord.py is translating, or None for what has none."""
    data: object = context.data
    match context.location:
        case Where.command_name | Where.group_name:
            assert isinstance(data, app_commands.Command | app_commands.Group)
            return command_key(data, "name")
        case Where.command_description | Where.group_description:
            assert isinstance(data, app_commands.Command | app_commands.Group)
            return command_key(data, "description")
        case Where.parameter_name:
            assert isinstance(data, app_commands.Parameter)
            return parameter_key(data, "name")
        case Where.parameter_description:
            assert isinstance(data, app_commands.Parameter)
            return parameter_key(data, "description")
        case Where.choice_name:
            assert isinstance(data, app_commands.Choice)
            return choice_key(data)
        case _:
            return None


class CatalogTranslator(app_commands.Translator):
    """Localizations from the catalogs; English stays the default Discord shows."""

    def __init__(self, languages: Languages) -> None:
        self._languages = languages

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = self._languages.language_of(locale)
        if language == FALLBACK or language != locale.value.split("-")[0]:
            return None
        key = key_for(context)
        if key is None:
            return None
        entry = self._languages.catalogs[language].messages.get(key)
        return entry if isinstance(entry, str) else None


def command_texts(commands: list[Command]) -> Iterator[tuple[str, str]]:
    """Every (key, English text) of the commands, as the catalogs must hold them."""
    for command in commands:
        yield command_key(command, "name"), command.name
        yield command_key(command, "description"), command.description
        if isinstance(command, app_commands.Group):
            yield from command_texts(list(command.commands))
            continue
        for parameter in command.parameters:
            yield parameter_key(parameter, "name"), parameter.name
            yield parameter_key(parameter, "description"), parameter.description
            for choice in parameter.choices:
                yield choice_key(choice), choice.name
