"""Registered application commands: what the bot synced, echoed back as Discord does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import FormErrors
from .ids import SnowflakeFactory

CHAT_INPUT = 1
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
NAME = re.compile(r"^[-_\w]{1,32}$")


@dataclass(frozen=True)
class SyncRecord:
    """One bulk overwrite (``tree.sync()``): the scope and the command names it set."""

    guild_id: int | None
    names: tuple[str, ...]


class CommandStore:
    """Commands per scope keyed by (name, type); a re-synced command keeps its id."""

    def __init__(self, ids: SnowflakeFactory, application_id: int) -> None:
        self._ids = ids
        self._app_id = application_id
        self._scopes: dict[int | None, dict[tuple[str, int], dict[str, Any]]] = {None: {}}
        self.syncs: list[SyncRecord] = []

    def in_scope(self, guild_id: int | None) -> list[dict[str, Any]]:
        return list(self._scopes.get(guild_id, {}).values())

    def get(self, guild_id: int | None, command_id: int) -> dict[str, Any] | None:
        return next((c for c in self.in_scope(guild_id) if int(c["id"]) == command_id), None)

    def find(self, guild_id: int | None, name: str) -> dict[str, Any] | None:
        """What a user in ``guild_id`` can invoke as ``/name``: guild command, else global."""
        for scope in (guild_id, None):
            command = self._scopes.get(scope, {}).get((name, CHAT_INPUT))
            if command is not None:
                return command
        return None

    def bulk_overwrite(
        self, guild_id: int | None, payload: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        form = FormErrors()
        seen: set[tuple[str, int]] = set()
        for index, command in enumerate(payload):
            validate_command(form, command, [index])
            key = (str(command.get("name")), int(command.get("type") or CHAT_INPUT))
            if key in seen:
                form.add(
                    [index, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique ({key[0]})",
                )
            seen.add(key)
        form.raise_if_any()
        old = self._scopes.get(guild_id, {})
        self._scopes[guild_id] = {}
        for command in payload:
            self._store(guild_id, command, old)
        self.syncs.append(SyncRecord(guild_id, tuple(c["name"] for c in payload)))
        return self.in_scope(guild_id)

    def upsert(self, guild_id: int | None, command: dict[str, Any]) -> dict[str, Any]:
        form = FormErrors()
        validate_command(form, command, [])
        form.raise_if_any()
        return self._store(guild_id, command, self._scopes.get(guild_id, {}))

    def edit(self, guild_id: int | None, command_id: int, changes: dict[str, Any]) -> dict | None:
        current = self.get(guild_id, command_id)
        if current is None:
            return None
        scope = self._scopes[guild_id]
        scope.pop((current["name"], current["type"]), None)
        merged = {**current, **changes}
        return self._store(guild_id, merged, {(current["name"], current["type"]): current})

    def delete(self, guild_id: int | None, command_id: int) -> bool:
        current = self.get(guild_id, command_id)
        if current is None:
            return False
        del self._scopes[guild_id][(current["name"], current["type"])]
        return True

    def _store(
        self,
        guild_id: int | None,
        command: dict[str, Any],
        previous: dict[tuple[str, int], dict[str, Any]],
    ) -> dict[str, Any]:
        kind = int(command.get("type") or CHAT_INPUT)
        key = (str(command["name"]), kind)
        prior = previous.get(key)
        stored: dict[str, Any] = {
            "id": prior["id"] if prior else str(self._ids.next()),
            "application_id": str(self._app_id),
            "version": str(self._ids.next()),
            "type": kind,
            "name": command["name"],
            "name_localizations": command.get("name_localizations"),
            "description": command.get("description", ""),
            "description_localizations": command.get("description_localizations"),
            "options": command.get("options") or [],
            "default_member_permissions": command.get("default_member_permissions"),
            "dm_permission": command.get("dm_permission", True),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types") or [0],
            "nsfw": bool(command.get("nsfw", False)),
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        self._scopes.setdefault(guild_id, {})[key] = stored
        return stored


def validate_command(form: FormErrors, command: dict[str, Any], path: list[str | int]) -> None:
    """Discord's registration rules that a bug in a bot's command tree would trip."""
    kind = int(command.get("type") or CHAT_INPUT)
    name = str(command.get("name") or "")
    if kind == CHAT_INPUT and (not NAME.match(name) or name != name.lower()):
        form.add(
            [*path, "name"],
            "APPLICATION_COMMAND_INVALID_NAME",
            f"Command name is invalid: {name!r}",
        )
    if kind == CHAT_INPUT:
        description = str(command.get("description") or "")
        if not 1 <= len(description) <= 100:
            form.add(
                [*path, "description"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
    _validate_options(form, command.get("options") or [], [*path, "options"], depth=0)


def _validate_options(
    form: FormErrors, options: list[dict[str, Any]], path: list[str | int], depth: int
) -> None:
    if len(options) > 25:
        form.max_length(path, 25)
    optional_seen = False
    for index, option in enumerate(options):
        here = [*path, index]
        name = str(option.get("name") or "")
        if not NAME.match(name) or name != name.lower():
            form.add([*here, "name"], "APPLICATION_COMMAND_INVALID_NAME", f"Invalid {name!r}")
        if not 1 <= len(str(option.get("description") or "")) <= 100:
            form.add(
                [*here, "description"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        kind = option.get("type")
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if depth >= 2 or (kind == SUB_COMMAND_GROUP and depth >= 1):
                form.add([*here, "type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Bad nest")
            _validate_options(form, option.get("options") or [], [*here, "options"], depth + 1)
            continue
        if len(option.get("choices") or []) > 25:
            form.max_length([*here, "choices"], 25)
        if option.get("required"):
            if optional_seen:
                form.add(
                    [*here, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
