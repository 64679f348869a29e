"""Interaction responses the real API refuses (modals, autocomplete results, malformed
callbacks) get 400/50035, and the interaction stays unacknowledged."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from testkit.discord import FakeInteraction

from .conftest import Silent
from .raw_api import error_paths


def text_input(**fields: Any) -> dict[str, Any]:
    return {"type": 4, "custom_id": "answer", "style": 1, "label": "Answer", **fields}


def modal(*inputs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    rows = [{"type": 1, "components": [i]} for i in inputs or (text_input(),)]
    return {"type": 9, "data": {"title": "Tell us", "custom_id": "m", "components": rows, **fields}}


INPUT = "data.components.0.components.0"

MODALS: dict[str, tuple[dict[str, Any], str, str | None]] = {
    "title over 45": (modal(title="t" * 46), "data.title", "BASE_TYPE_BAD_LENGTH"),
    "label over 45": (modal(text_input(label="l" * 46)), f"{INPUT}.label", None),
    "placeholder over 100": (
        modal(text_input(placeholder="p" * 101)),
        f"{INPUT}.placeholder",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "min_length negative": (
        modal(text_input(min_length=-1)),
        f"{INPUT}.min_length",
        "NUMBER_TYPE_MIN",
    ),
    "min_length over 4000": (
        modal(text_input(min_length=4001)),
        f"{INPUT}.min_length",
        "NUMBER_TYPE_MAX",
    ),
    "max_length 0": (modal(text_input(max_length=0)), f"{INPUT}.max_length", "NUMBER_TYPE_MIN"),
    "max_length over 4000": (
        modal(text_input(max_length=4001)),
        f"{INPUT}.max_length",
        "NUMBER_TYPE_MAX",
    ),
    "min over max": (modal(text_input(min_length=10, max_length=5)), f"{INPUT}.min_length", None),
    "value longer than max_length": (
        modal(text_input(max_length=5, value="toolong")),
        f"{INPUT}.value",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "six inputs": (
        modal(*(text_input(custom_id=f"a{i}") for i in range(6))),
        "data.components",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "button in a row": (
        modal({"type": 2, "style": 1, "label": "Go", "custom_id": "go"}),
        f"{INPUT}.type",
        "UNION_TYPE_CHOICES",
    ),
    "button beside the rows": (
        {
            "type": 9,
            "data": {
                "title": "t",
                "custom_id": "m",
                "components": [
                    {"type": 1, "components": [text_input()]},
                    {"type": 2, "style": 1, "label": "Go", "custom_id": "go"},
                ],
            },
        },
        "data.components.1.type",
        "UNION_TYPE_CHOICES",
    ),
    "label component over 45": (
        {
            "type": 9,
            "data": {
                "title": "t",
                "custom_id": "m",
                "components": [{"type": 18, "label": "l" * 46, "component": text_input()}],
            },
        },
        "data.components.0.label",
        "BASE_TYPE_BAD_LENGTH",
    ),
}


@pytest.mark.parametrize("case", sorted(MODALS))
async def test_refused_modal_answers_50035(silent: Silent, case: str) -> None:
    body, path, code = MODALS[case]
    interaction = await silent.slash()
    status, answer = await silent.callback(interaction, body)
    assert (status, answer["code"]) == (400, 50035)
    paths = error_paths(answer)
    assert path in paths, paths
    if code is not None:
        assert code in paths[path]
    assert not interaction.acked


async def test_modal_at_the_limits_is_accepted(silent: Silent) -> None:
    inputs = [
        text_input(
            custom_id=f"a{i}",
            label="l" * 45,
            placeholder="p" * 100,
            min_length=0,
            max_length=4000,
            value="v" * 4000,
        )
        for i in range(5)
    ]
    interaction = await silent.slash()
    status, answer = await silent.callback(interaction, modal(*inputs, title="t" * 45))
    assert status == 204, answer
    assert interaction.modal is not None


def choices(*pairs: tuple[str, Any]) -> dict[str, Any]:
    return {"type": 8, "data": {"choices": [{"name": n, "value": v} for n, v in pairs]}}


AUTOCOMPLETE: dict[str, tuple[str, dict[str, Any], str, str | None]] = {
    "26 choices": (
        "text",
        choices(*((str(i), str(i)) for i in range(26))),
        "data.choices",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "empty name": ("text", choices(("", "v")), "data.choices.0.name", "BASE_TYPE_BAD_LENGTH"),
    "name over 100": (
        "text",
        choices(("n" * 101, "v")),
        "data.choices.0.name",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "string value over 100": (
        "text",
        choices(("n", "v" * 101)),
        "data.choices.0.value",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "string for an integer option": (
        "count",
        choices(("five", "5")),
        "data.choices.0.value",
        "NUMBER_TYPE_COERCE",
    ),
    "float for an integer option": (
        "count",
        choices(("half", 0.5)),
        "data.choices.0.value",
        "NUMBER_TYPE_COERCE",
    ),
    "string for a number option": (
        "ratio",
        choices(("half", "0.5")),
        "data.choices.0.value",
        "NUMBER_TYPE_COERCE",
    ),
    "integer over 2^53 - 1": (
        "count",
        choices(("big", 2**53)),
        "data.choices.0.value",
        "NUMBER_TYPE_MAX",
    ),
    "integer under -(2^53 - 1)": (
        "count",
        choices(("small", -(2**53))),
        "data.choices.0.value",
        "NUMBER_TYPE_MIN",
    ),
    "number over 2^53": (
        "ratio",
        choices(("big", 1e16)),
        "data.choices.0.value",
        "NUMBER_TYPE_MAX",
    ),
    "number under -2^53": (
        "ratio",
        choices(("small", -1e16)),
        "data.choices.0.value",
        "NUMBER_TYPE_MIN",
    ),
    "no data": ("text", {"type": 8}, "data", "BASE_TYPE_REQUIRED"),
    "data without choices": ("text", {"type": 8, "data": {}}, "data.choices", "BASE_TYPE_REQUIRED"),
    "integer for a string option": (
        "text",
        choices(("one", 1)),
        "data.choices.0.value",
        "STRING_TYPE_CONVERT",
    ),
}


async def autocomplete(silent: Silent, focused: str, body: Any) -> tuple[FakeInteraction, Any]:
    fake, scene = silent.scene.fake, silent.scene
    typing = asyncio.create_task(
        fake.autocomplete(scene.channel, scene.alice, "pick", focused=focused, timeout=5)
    )
    await asyncio.sleep(0)  # the task dispatches INTERACTION_CREATE before its first await
    [interaction] = fake.interactions
    answer = await silent.callback(interaction, body)
    typing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await typing
    return interaction, answer


@pytest.mark.parametrize("case", sorted(AUTOCOMPLETE))
async def test_refused_autocomplete_answers_50035(silent: Silent, case: str) -> None:
    focused, body, path, code = AUTOCOMPLETE[case]
    interaction, (status, answer) = await autocomplete(silent, focused, body)
    assert (status, answer["code"]) == (400, 50035)
    paths = error_paths(answer)
    assert path in paths, paths
    if code is not None:
        assert code in paths[path]
    assert not interaction.acked


@pytest.mark.parametrize(
    ("focused", "value"),
    [
        ("text", "t" * 100),
        ("count", 3),
        ("count", 2**53 - 1),
        ("count", -(2**53 - 1)),
        ("ratio", 0.5),
        ("ratio", 2),
        ("ratio", float(2**53)),
        ("ratio", -(2**53)),
    ],
)
async def test_autocomplete_values_of_the_options_type_are_accepted(
    silent: Silent, focused: str, value: Any
) -> None:
    body = choices(*((f"c{i}", value) for i in range(25)))
    interaction, (status, answer) = await autocomplete(silent, focused, body)
    assert status == 204, answer
    assert len(interaction.choices or []) == 25


MALFORMED: dict[str, Any] = {
    "type missing": {"data": {}},
    "type not a number": {"type": "defer"},
    "data not an object": {"type": 4, "data": "hello"},
    "message content not a string": {"type": 4, "data": {"content": ["a"]}},
    "embeds not a list": {"type": 4, "data": {"embeds": "e"}},
    "flags not a number": {"type": 5, "data": {"flags": "ephemeral"}},
    "modal row components a number": {
        "type": 9,
        "data": {"title": "t", "custom_id": "m", "components": [{"type": 1, "components": 1}]},
    },
    "modal components not a list": {
        "type": 9,
        "data": {"title": "t", "custom_id": "m", "components": 1},
    },
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_callback_is_400_not_500(silent: Silent, case: str) -> None:
    interaction = await silent.slash()
    status, answer = await silent.callback(interaction, MALFORMED[case])
    assert (status, answer["code"]) == (400, 50035), answer
    assert not interaction.acked


async def test_refused_response_message_errors_sit_under_data(silent: Silent) -> None:
    interaction = await silent.slash()
    body = {"type": 4, "data": {"content": "c" * 2001, "embeds": [{"color": -1}]}}
    status, answer = await silent.callback(interaction, body)
    assert (status, answer["code"]) == (400, 50035)
    assert set(error_paths(answer)) == {"data.content", "data.embeds.0.color"}
    assert not interaction.acked
