"""Registered application commands: what the bot synced, echoed back as Discord does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .command_rules import check_command_counts, validate_command
from .errors import FormErrors
from .form_checks import dicts
from .ids import SnowflakeFactory

CHAT_INPUT = 1


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
        commands = dicts(form, payload, [])
        for index, command in commands:
            validate_command(form, command, [index])
        form.raise_if_any()
        seen: set[tuple[str, int]] = set()
        for index, command in commands:
            key = (str(command.get("name")), int(command.get("type") or CHAT_INPUT))
            if key in seen:
                form.add(
                    [index, "name"],
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique ({key[0]})",
                )
            seen.add(key)
        form.raise_if_any()
        check_command_counts(command for _, command in commands)
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
        scope = self._scopes.get(guild_id, {})
        key = (str(command["name"]), int(command.get("type") or CHAT_INPUT))
        if key not in scope:
            check_command_counts([*scope.values(), command])
        return self._store(guild_id, command, scope)

    def edit(
        self, guild_id: int | None, command_id: int, changes: dict[str, Any]
    ) -> dict[str, Any] | None:
        current = self.get(guild_id, command_id)
        if current is None:
            return None
        merged = {**current, **changes}
        form = FormErrors()
        validate_command(form, merged, [])
        form.raise_if_any()
        self._scopes[guild_id].pop((current["name"], current["type"]), None)
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
