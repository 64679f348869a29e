"""Reading shots from the form: formats people type, and errors that name the shot."""

from __future__ import annotations

import pytest

from bot.discord_ui.multishot import MultishotOptions, multishot_request, parse_shot
from bot.runcomfy.input_error import KlingInputError
from bot.runcomfy.request import Shot, ShotType


@pytest.mark.parametrize(
    "text",
    [
        "5 | a harbour",
        "5s | a harbour",
        "5 sec: a harbour",
        "  5 - a harbour ",
        "5 seconds, a harbour",
    ],
)
def test_common_ways_of_writing_a_shot(text: str) -> None:
    assert parse_shot(1, text) == Shot(prompt="a harbour", duration=5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a harbour", "`shot 3` must start with its length in seconds"),
        ("2 | a harbour", "`shot 3` must last from 3 to 15 seconds. You gave 2."),
        ("16 | a harbour", "`shot 3` must last from 3 to 15 seconds. You gave 16."),
        ("5 |   ", "`shot 3` needs a prompt after its length"),
    ],
)
def test_errors_name_the_shot(text: str, message: str) -> None:
    with pytest.raises(KlingInputError) as refused:
        parse_shot(3, text)
    assert str(refused.value).startswith(message)


def test_request_sums_the_shots_and_customizes() -> None:
    request = multishot_request(
        MultishotOptions(prompt="a day at sea", sound=False), ["4 | dawn", "", "5 | noon"]
    )
    assert request.duration == 9
    assert request.shot_type is ShotType.CUSTOMIZE
    assert request.multi_prompt == (Shot("dawn", 4), Shot("noon", 5))
    assert request.sound is False


def test_at_least_two_shots() -> None:
    with pytest.raises(KlingInputError, match="needs 2 to 5 shots"):
        multishot_request(MultishotOptions(prompt="p"), ["5 | only one", "", ""])


def test_numbering_follows_the_form_even_with_gaps() -> None:
    with pytest.raises(KlingInputError, match="`shot 4`"):
        multishot_request(MultishotOptions(prompt="p"), ["5 | a", "5 | b", "", "99 | d"])
