"""INTERACTION_CREATE payloads a real Discord client would cause, checked like its UI checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import permissions as perms
from .command_rules import SUB_COMMAND, SUB_COMMAND_GROUP
from .commands import CommandStore
from .errors import FakeDiscordUsageError
from .ids import SnowflakeFactory, interaction_token
from .payloads import Payloads
from .records import FakeMessage
from .world import FakeChannel, FakeMember, FakeRole, FakeUser, World

STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
)
TEXT_INPUT, LABEL, ACTION_ROW = 4, 18, 1
SELECT_TYPES = {3, 5, 6, 7, 8}
BUTTON = 2

OptionValue = str | int | float | bool | FakeMember | FakeUser | FakeChannel | FakeRole


class InvocationBuilder:
    """Builds the base envelope every interaction shares, plus each kind's ``data``."""

    def __init__(
        self, world: World, payloads: Payloads, commands: CommandStore, ids: SnowflakeFactory
    ) -> None:
        self.world = world
        self.payloads = payloads
        self.commands = commands
        self.ids = ids

    def envelope(self, kind: int, channel: FakeChannel, member: FakeMember) -> dict[str, Any]:
        guild = channel.guild
        if guild is None:
            raise FakeDiscordUsageError("the fake only dispatches interactions in guild channels")
        if member.guild is not guild:
            raise FakeDiscordUsageError(f"{member.user.username} is not a member of {guild.name}")
        member_perms = member.permissions_in(channel)
        if not perms.has(member_perms, perms.VIEW_CHANNEL):
            raise FakeDiscordUsageError(f"{member.user.username} cannot see #{channel.name}")
        interaction_id = self.ids.next()
        channel_payload = {
            k: v
            for k, v in self.payloads.channel(channel).items()
            if k not in ("permission_overwrites", "member")
        }
        return {
            "id": str(interaction_id),
            "application_id": str(self.world.application_id),
            "type": kind,
            "token": interaction_token(interaction_id),
            "version": 1,
            "guild_id": str(guild.id),
            "channel_id": str(channel.id),
            "channel": {**channel_payload, "permissions": str(member_perms)},
            "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            "member": {**self.payloads.member(member), "permissions": str(member_perms)},
            "app_permissions": str(self.world.bot_permissions_in(channel)),
            "locale": member.locale,
            "guild_locale": guild.preferred_locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": guild.upload_limit,
        }

    def command_data(
        self,
        channel: FakeChannel,
        member: FakeMember,
        name: str,
        subcommand: str | None,
        options: Mapping[str, OptionValue],
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """``data`` of a slash command (or its autocomplete when ``focused`` is set)."""
        guild_id = channel.guild_id
        command = self.commands.find(guild_id, name)
        if command is None:
            raise FakeDiscordUsageError(
                f"/{name} is not registered for this guild or globally; did the bot sync its "
                "command tree (tree.sync()) before the test invoked it?"
            )
        self._check_visible(command, member, channel)
        specs: list[dict[str, Any]] = command.get("options") or []
        nested: list[dict[str, Any]] = []
        path = (subcommand or "").split()
        groups_or_subs = [s for s in specs if s.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if groups_or_subs and not path:
            names = [s["name"] for s in groups_or_subs]
            raise FakeDiscordUsageError(f"/{name} needs a subcommand, one of {names}")
        parents: list[dict[str, Any]] = []
        for part in path:
            spec = next(
                (
                    s
                    for s in specs
                    if s.get("name") == part and s.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ),
                None,
            )
            if spec is None:
                raise FakeDiscordUsageError(f"/{name} has no subcommand {subcommand!r}")
            parents.append(spec)
            specs = spec.get("options") or []
        if parents and parents[-1].get("type") != SUB_COMMAND:
            raise FakeDiscordUsageError(f"{subcommand!r} is a group; name one of its subcommands")
        resolved: dict[str, dict[str, Any]] = {}
        nested = self._options(specs, options, resolved, focused=focused)
        for spec in reversed(parents):
            nested = [{"name": spec["name"], "type": spec["type"], "options": nested}]
        data: dict[str, Any] = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": nested,
        }
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _check_visible(
        self, command: dict[str, Any], member: FakeMember, channel: FakeChannel
    ) -> None:
        contexts = command.get("contexts")
        if contexts is not None and 0 not in contexts:
            raise FakeDiscordUsageError(f"/{command['name']} is not available in servers")
        required = command.get("default_member_permissions")
        if required is None:
            return
        needed = int(required) or perms.ADMINISTRATOR
        if not perms.has(member.permissions_in(channel), needed):
            raise FakeDiscordUsageError(
                f"{member.user.username} cannot see /{command['name']}: it needs permissions "
                f"{needed} (default_member_permissions)"
            )

    def _options(
        self,
        specs: list[dict[str, Any]],
        given: Mapping[str, OptionValue],
        resolved: dict[str, dict[str, Any]],
        *,
        focused: str | None,
    ) -> list[dict[str, Any]]:
        by_name = {s["name"]: s for s in specs}
        values = dict(given)
        if focused is not None:
            if focused not in by_name:
                raise FakeDiscordUsageError(f"no option {focused!r} to focus")
            if not by_name[focused].get("autocomplete"):
                raise FakeDiscordUsageError(f"option {focused!r} has no autocomplete")
            values.setdefault(focused, "")
        out: list[dict[str, Any]] = []
        for option_name, value in values.items():
            spec = by_name.get(option_name)
            if spec is None:
                raise FakeDiscordUsageError(f"no option {option_name!r}; have {sorted(by_name)}")
            if option_name == focused:
                out.append(
                    {
                        "name": option_name,
                        "type": spec["type"],
                        "value": str(value),
                        "focused": True,
                    }
                )
                continue
            out.append(
                {
                    "name": option_name,
                    "type": spec["type"],
                    "value": self._value(spec, value, resolved),
                }
            )
        if focused is None:
            missing = [s["name"] for s in specs if s.get("required") and s["name"] not in values]
            if missing:
                raise FakeDiscordUsageError(f"required options missing: {missing}")
        return out

    def _value(
        self, spec: dict[str, Any], value: OptionValue, resolved: dict[str, dict[str, Any]]
    ) -> Any:
        kind, name = spec["type"], spec["name"]
        if kind == STRING:
            if not isinstance(value, str):
                raise FakeDiscordUsageError(f"option {name!r} takes a string, got {value!r}")
            low, high = spec.get("min_length", 0), spec.get("max_length", 6000)
            if not low <= len(value) <= high:
                raise FakeDiscordUsageError(f"option {name!r} length must be in [{low}, {high}]")
        elif kind in (INTEGER, NUMBER):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FakeDiscordUsageError(f"option {name!r} takes a number, got {value!r}")
            if kind == INTEGER and not isinstance(value, int):
                raise FakeDiscordUsageError(f"option {name!r} takes an integer, got {value!r}")
            low, high = spec.get("min_value"), spec.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                raise FakeDiscordUsageError(f"option {name!r} must be in [{low}, {high}]")
        elif kind == BOOLEAN:
            if not isinstance(value, bool):
                raise FakeDiscordUsageError(f"option {name!r} takes a bool, got {value!r}")
        elif kind in (USER, CHANNEL, ROLE, MENTIONABLE):
            return self._resolve(kind, name, value, resolved)
        else:
            raise FakeDiscordUsageError(f"option type {kind} ({name!r}) is not supported")
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise FakeDiscordUsageError(
                f"option {name!r} only offers {[c['value'] for c in choices]}, got {value!r}"
            )
        return value

    def _resolve(
        self, kind: int, name: str, value: OptionValue, resolved: dict[str, dict[str, Any]]
    ) -> str:
        if isinstance(value, FakeMember) and kind in (USER, MENTIONABLE):
            resolved.setdefault("users", {})[str(value.id)] = self.payloads.user(value.user)
            member = self.payloads.member(value, with_user=False)
            channel_less = perms.effective(value.permissions)
            member["permissions"] = str(channel_less)
            resolved.setdefault("members", {})[str(value.id)] = member
            return str(value.id)
        if isinstance(value, FakeUser) and kind in (USER, MENTIONABLE):
            resolved.setdefault("users", {})[str(value.id)] = self.payloads.user(value)
            return str(value.id)
        if isinstance(value, FakeRole) and kind in (ROLE, MENTIONABLE):
            resolved.setdefault("roles", {})[str(value.id)] = self.payloads.role(value)
            return str(value.id)
        if isinstance(value, FakeChannel) and kind == CHANNEL:
            payload = {
                k: v
                for k, v in self.payloads.channel(value).items()
                if k != "permission_overwrites"
            }
            payload["permissions"] = str(perms.ALL)
            resolved.setdefault("channels", {})[str(value.id)] = payload
            return str(value.id)
        raise FakeDiscordUsageError(f"option {name!r} cannot take {value!r}")

    @staticmethod
    def component_data(
        message: FakeMessage, custom_id: str, values: Sequence[str] | None
    ) -> dict[str, Any]:
        component = message.component(custom_id)
        if component is None:
            raise FakeDiscordUsageError(
                f"message {message.id} has no component {custom_id!r}; it has {message.custom_ids}"
            )
        if component.get("disabled"):
            raise FakeDiscordUsageError(f"component {custom_id!r} is disabled")
        kind = component.get("type")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind}
        if "id" in component:
            data["id"] = component["id"]
        if kind in SELECT_TYPES:
            if values is None:
                raise FakeDiscordUsageError(f"{custom_id!r} is a select menu: pass values")
            data["values"] = list(values)
        elif kind != BUTTON:
            raise FakeDiscordUsageError(f"component {custom_id!r} (type {kind}) is not clickable")
        elif values is not None:
            raise FakeDiscordUsageError(f"{custom_id!r} is a button: it takes no values")
        return data

    @staticmethod
    def modal_data(
        modal: dict[str, Any], values: Mapping[str, str | Sequence[str]]
    ) -> dict[str, Any]:
        """The submitted components, mirroring the modal's layout (rows or labels)."""
        unknown = set(values) - _modal_custom_ids(modal["components"])
        if unknown:
            raise FakeDiscordUsageError(f"modal {modal['custom_id']!r} has no inputs {unknown}")
        submitted = [_submit(c, values) for c in modal["components"]]
        return {"custom_id": modal["custom_id"], "components": [c for c in submitted if c]}


def _modal_custom_ids(components: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for component in components:
        if "custom_id" in component:
            found.add(component["custom_id"])
        found |= _modal_custom_ids(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            found |= _modal_custom_ids([component["component"]])
    return found


def _submit(
    component: dict[str, Any], values: Mapping[str, str | Sequence[str]]
) -> dict[str, Any] | None:
    kind = component.get("type")
    if kind == ACTION_ROW:
        children = [_submit(c, values) for c in component.get("components") or []]
        return {"type": ACTION_ROW, "components": [c for c in children if c]}
    if kind == LABEL:
        inner = _submit(component["component"], values)
        return _with_id({"type": LABEL, "component": inner}, component) if inner else None
    custom_id = component.get("custom_id")
    if custom_id is None:
        return None
    if kind == TEXT_INPUT:
        value = values.get(custom_id, component.get("value") or "")
        if not isinstance(value, str):
            raise FakeDiscordUsageError(f"text input {custom_id!r} takes a string")
        if component.get("required", True) and not value:
            raise FakeDiscordUsageError(f"text input {custom_id!r} is required")
        low, high = component.get("min_length", 0), component.get("max_length", 4000)
        if value and not low <= len(value) <= high:
            raise FakeDiscordUsageError(
                f"text input {custom_id!r} length must be in [{low}, {high}]"
            )
        return _with_id({"type": TEXT_INPUT, "custom_id": custom_id, "value": value}, component)
    if kind in SELECT_TYPES:
        chosen = values.get(custom_id, [])
        chosen = [chosen] if isinstance(chosen, str) else list(chosen)
        return _with_id({"type": kind, "custom_id": custom_id, "values": chosen}, component)
    return None


def _with_id(submitted: dict[str, Any], component: dict[str, Any]) -> dict[str, Any]:
    if "id" in component:
        submitted["id"] = component["id"]
    return submitted
