"""Command registrations the real API refuses get 400/50035, and a refused sync changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Scene
from .raw_api import RawApi, error_paths


def command(**fields: Any) -> dict[str, Any]:
    return {"type": 1, "name": "video", "description": "Make videos", **fields}


def string_option(**fields: Any) -> dict[str, Any]:
    return {"type": 3, "name": "prompt", "description": "What to show", **fields}


def choice(name: str, value: Any, **fields: Any) -> dict[str, Any]:
    return {"name": name, "value": value, **fields}


LONG = "x" * 101


def option_named(index: int) -> dict[str, Any]:
    return string_option(name=f"o{index}")


BIG_OPTION = string_option(
    description="d" * 100,
    choices=[choice(f"{i:02d}" + "n" * 98, f"{i:02d}" + "v" * 98) for i in range(25)],
)

# 2,552 characters as sent, 5,101 once the longest localization of each field counts.
LOCALIZED_OPTION = string_option(
    name="o",
    description="d",
    description_localizations={"fr": "d" * 100},
    choices=[
        choice(f"{i:02d}", f"{i:02d}" + "v" * 98, name_localizations={"fr": "n" * 100})
        for i in range(25)
    ],
)

REFUSED: dict[str, tuple[Any, str, str | None]] = {
    "uppercase name": (command(name="Video"), "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    "space in name": (command(name="make video"), "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    "name over 32": (command(name="v" * 33), "0.name", "BASE_TYPE_BAD_LENGTH"),
    "empty description": (command(description=""), "0.description", "BASE_TYPE_BAD_LENGTH"),
    "description over 100": (
        command(description="d" * 101),
        "0.description",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "26 options": (
        command(options=[option_named(i) for i in range(26)]),
        "0.options",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "26 subcommands": (
        command(options=[{**option_named(i), "type": 1} for i in range(26)]),
        "0.options",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "uppercase option name": (
        command(options=[string_option(name="Prompt")]),
        "0.options.0.name",
        "APPLICATION_COMMAND_INVALID_NAME",
    ),
    "26 choices": (
        command(options=[string_option(choices=[choice(str(i), str(i)) for i in range(26)])]),
        "0.options.0.choices",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "choice name over 100": (
        command(options=[string_option(choices=[choice("n" * 101, "v")])]),
        "0.options.0.choices.0.name",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "choice value over 100": (
        command(options=[string_option(choices=[choice("n", "v" * 101)])]),
        "0.options.0.choices.0.value",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "string choice for an integer option": (
        command(options=[string_option(type=4, choices=[choice("five", "5")])]),
        "0.options.0.choices.0.value",
        "NUMBER_TYPE_COERCE",
    ),
    "unknown locale": (
        command(name_localizations={"xx-XX": "video"}),
        "0.name_localizations.xx-XX",
        "BASE_TYPE_CHOICES",
    ),
    "localized name invalid": (
        command(name_localizations={"fr": "Vidéo"}),
        "0.name_localizations.fr",
        "APPLICATION_COMMAND_INVALID_NAME",
    ),
    "localized name over 32": (
        command(name_localizations={"de": "v" * 33}),
        "0.name_localizations.de",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "localized description over 100": (
        command(description_localizations={"ja": "d" * 101}),
        "0.description_localizations.ja",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "option description localization over 100": (
        command(options=[string_option(description_localizations={"fr": "d" * 101})]),
        "0.options.0.description_localizations.fr",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "choice name localization over 100": (
        command(
            options=[string_option(choices=[choice("n", "v", name_localizations={"fr": LONG})])]
        ),
        "0.options.0.choices.0.name_localizations.fr",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "over 8000 characters": (
        command(options=[{**BIG_OPTION, "name": f"o{i}"} for i in range(2)]),
        "0",
        "APPLICATION_COMMAND_TOO_LARGE",
    ),
    "over 8000 counting the longest localization": (
        command(options=[LOCALIZED_OPTION, {**BIG_OPTION, "name": "p"}]),
        "0",
        "APPLICATION_COMMAND_TOO_LARGE",
    ),
    "min_length negative": (
        command(options=[string_option(min_length=-1)]),
        "0.options.0.min_length",
        "NUMBER_TYPE_MIN",
    ),
    "min_length over 6000": (
        command(options=[string_option(min_length=6001)]),
        "0.options.0.min_length",
        "NUMBER_TYPE_MAX",
    ),
    "max_length 0": (
        command(options=[string_option(max_length=0)]),
        "0.options.0.max_length",
        "NUMBER_TYPE_MIN",
    ),
    "max_length over 6000": (
        command(options=[string_option(max_length=6001)]),
        "0.options.0.max_length",
        "NUMBER_TYPE_MAX",
    ),
    "negative default_member_permissions": (
        command(default_member_permissions="-8"),
        "0.default_member_permissions",
        "NUMBER_TYPE_MIN",
    ),
    "default_member_permissions a word": (
        command(default_member_permissions="admins"),
        "0.default_member_permissions",
        "NUMBER_TYPE_COERCE",
    ),
    "empty contexts": (command(contexts=[]), "0.contexts", "BASE_TYPE_BAD_LENGTH"),
    "unknown context": (command(contexts=[0, 3]), "0.contexts.1", "BASE_TYPE_CHOICES"),
    "duplicate contexts": (
        command(contexts=[0, 0]),
        "0.contexts.1",
        "SET_TYPE_ALREADY_CONTAINS_VALUE",
    ),
    "duplicate integration_types": (
        command(integration_types=[0, 0]),
        "0.integration_types.1",
        "SET_TYPE_ALREADY_CONTAINS_VALUE",
    ),
    "unknown integration type": (
        command(integration_types=[2]),
        "0.integration_types.0",
        "BASE_TYPE_CHOICES",
    ),
    "autocomplete with choices": (
        command(options=[string_option(autocomplete=True, choices=[choice("a", "a")])]),
        "0.options.0.autocomplete",
        None,
    ),
    "integer choice over 2^53 - 1": (
        command(options=[string_option(type=4, choices=[choice("big", 2**53)])]),
        "0.options.0.choices.0.value",
        "NUMBER_TYPE_MAX",
    ),
    "number choice under -2^53": (
        command(options=[string_option(type=10, choices=[choice("small", -1e16)])]),
        "0.options.0.choices.0.value",
        "NUMBER_TYPE_MIN",
    ),
    "not an object": ("video", "0", "DICT_TYPE_CONVERT"),
    "options not a list": (command(options="prompt"), "0.options", "LIST_TYPE_CONVERT"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_refused_command_answers_50035_and_keeps_the_old_commands(
    raw: tuple[RawApi, Scene], case: str
) -> None:
    api, scene = raw
    status, _ = await api.put_commands([command(name="old")])
    assert status == 200
    body, path, code = REFUSED[case]
    status, answer = await api.put_commands([body])
    assert (status, answer["code"]) == (400, 50035)
    paths = error_paths(answer)
    assert path in paths, paths
    if code is not None:
        assert code in paths[path]
    assert [c["name"] for c in scene.fake.registered_commands()] == ["old"]


async def test_commands_at_the_limits_are_accepted(raw: tuple[RawApi, Scene]) -> None:
    api, scene = raw
    commands = [
        command(
            name="vidéo-हिंदी-ไทย_2",
            name_localizations={"fr": "vidéo", "hi": "वीडियो"},
            description_localizations={"fr": "d" * 100},
            options=[BIG_OPTION],
        ),
        {"type": 2, "name": "Report User"},
        command(name="numbers", options=[string_option(type=10, choices=[choice("half", 0.5)])]),
        command(name="localized", options=[LOCALIZED_OPTION]),
        command(
            name="bounds",
            default_member_permissions="8",
            contexts=[0, 1, 2],
            integration_types=[0, 1],
            options=[
                string_option(min_length=0, max_length=6000, autocomplete=True, choices=[]),
                string_option(
                    name="count",
                    type=4,
                    choices=[choice("max", 2**53 - 1), choice("min", 1 - 2**53)],
                ),
            ],
        ),
    ]
    status, answer = await api.put_commands(commands)
    assert status == 200, answer
    assert len(scene.fake.registered_commands()) == 5


async def test_edit_is_checked_and_a_refused_edit_keeps_the_command(
    raw: tuple[RawApi, Scene],
) -> None:
    api, scene = raw
    _, [stored] = await api.put_commands([command()])
    path = f"/applications/{scene.fake.application_id}/commands/{stored['id']}"
    status, answer = await api.request("PATCH", path, json={"description": ""})
    assert (status, answer["code"]) == (400, 50035)
    assert "description" in error_paths(answer)
    assert scene.fake.registered_commands()[0]["description"] == "Make videos"


def commands_of(kind: int, n: int) -> list[dict[str, Any]]:
    if kind == 1:
        return [command(name=f"c{i}") for i in range(n)]
    return [{"type": kind, "name": f"Menu {kind}-{i}"} for i in range(n)]


async def test_a_scope_holds_discords_documented_number_of_commands(
    raw: tuple[RawApi, Scene],
) -> None:
    """100 CHAT_INPUT, 15 USER and 15 MESSAGE commands (Discord's quotas per scope)."""
    api, scene = raw
    full = commands_of(1, 100) + commands_of(2, 15) + commands_of(3, 15)
    status, answer = await api.put_commands(full)
    assert status == 200, answer
    assert len(scene.fake.registered_commands()) == 130


@pytest.mark.parametrize(("kind", "limit"), [(1, 100), (2, 15), (3, 15)])
async def test_one_command_over_a_types_quota_is_30032_and_keeps_the_old_commands(
    raw: tuple[RawApi, Scene], kind: int, limit: int
) -> None:
    api, scene = raw
    status, _ = await api.put_commands([command(name="old")])
    assert status == 200
    status, answer = await api.put_commands(commands_of(kind, limit + 1))
    assert (status, answer["code"]) == (400, 30032), answer
    assert [c["name"] for c in scene.fake.registered_commands()] == ["old"]


async def test_creating_a_command_past_the_quota_is_30032_but_replacing_one_is_not(
    raw: tuple[RawApi, Scene],
) -> None:
    api, scene = raw
    status, _ = await api.put_commands(commands_of(2, 15))
    assert status == 200
    path = f"/applications/{scene.fake.application_id}/commands"
    status, answer = await api.request("POST", path, json={"type": 2, "name": "Menu 2-99"})
    assert (status, answer["code"]) == (400, 30032), answer
    status, answer = await api.request("POST", path, json={"type": 2, "name": "Menu 2-0"})
    assert status == 201, answer
    assert len(scene.fake.registered_commands()) == 15
