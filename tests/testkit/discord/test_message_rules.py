"""Message bodies the real API refuses get 400/50035 with the offending field's path."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Scene
from .raw_api import RawApi, error_paths


def button(custom_id: str = "b", **fields: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Go", "custom_id": custom_id, **fields}


def option(value: str, **fields: Any) -> dict[str, Any]:
    return {"label": value, "value": value, **fields}


def select(**fields: Any) -> dict[str, Any]:
    return {"type": 3, "custom_id": "pick", "options": [option("a"), option("b")], **fields}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def one(component: dict[str, Any]) -> dict[str, Any]:
    return {"components": [row(component)]}


def embed(**fields: Any) -> dict[str, Any]:
    return {"embeds": [{"title": "t", **fields}]}


FIRST = "components.0.components.0"
LONG = "x" * 101
URL_512 = "https://example.com/" + "u" * (512 - len("https://example.com/"))

REFUSED: dict[str, tuple[dict[str, Any], str, str | None]] = {
    # select menus
    "option label over 100": (
        one(select(options=[option("a", label="l" * 101)])),
        f"{FIRST}.options.0.label",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "option value over 100": (
        one(select(options=[option(LONG)])),
        f"{FIRST}.options.0.value",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "option description over 100": (
        one(select(options=[option("a", description=LONG)])),
        f"{FIRST}.options.0.description",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "empty option label": (
        one(select(options=[option("a", label="")])),
        f"{FIRST}.options.0.label",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "empty option value": (
        one(select(options=[option("")])),
        f"{FIRST}.options.0.value",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "no options": (one(select(options=[])), f"{FIRST}.options", "BASE_TYPE_BAD_LENGTH"),
    "26 options": (
        one(select(options=[option(str(i)) for i in range(26)])),
        f"{FIRST}.options",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "min_values over 25": (one(select(min_values=26)), f"{FIRST}.min_values", "NUMBER_TYPE_MAX"),
    "min_values negative": (one(select(min_values=-1)), f"{FIRST}.min_values", "NUMBER_TYPE_MIN"),
    "max_values 0": (one(select(max_values=0)), f"{FIRST}.max_values", "NUMBER_TYPE_MIN"),
    "max_values over 25": (one(select(max_values=26)), f"{FIRST}.max_values", "NUMBER_TYPE_MAX"),
    "min over max": (one(select(min_values=2, max_values=1)), f"{FIRST}.min_values", None),
    "max over options": (one(select(max_values=3)), f"{FIRST}.max_values", None),
    "duplicate option values": (
        one(select(options=[option("a"), option("a", label="again")])),
        f"{FIRST}.options.1",
        "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
    ),
    "select beside a button": (
        {"components": [row(select(), button())]},
        "components.0.components",
        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
    ),
    "placeholder over 150": (
        one(select(placeholder="p" * 151)),
        f"{FIRST}.placeholder",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "select without custom_id": (
        one({k: v for k, v in select().items() if k != "custom_id"}),
        f"{FIRST}.custom_id",
        "BASE_TYPE_REQUIRED",
    ),
    # buttons
    "button without style": (
        one({k: v for k, v in button().items() if k != "style"}),
        f"{FIRST}.style",
        "BASE_TYPE_REQUIRED",
    ),
    "unknown button style": (one(button(style=9)), f"{FIRST}.style", "BASE_TYPE_CHOICES"),
    "link button without url": (
        one({"type": 2, "style": 5, "label": "Site"}),
        f"{FIRST}.url",
        None,
    ),
    "link button with custom_id": (
        one(button(style=5, url="https://example.com")),
        f"{FIRST}.custom_id",
        None,
    ),
    "button without custom_id": (
        one({"type": 2, "style": 1, "label": "Go"}),
        f"{FIRST}.custom_id",
        None,
    ),
    "button label over 80": (one(button(label="l" * 81)), f"{FIRST}.label", "BASE_TYPE_MAX_LENGTH"),
    "link button url over 512": (
        one({"type": 2, "style": 5, "label": "Site", "url": URL_512 + "a"}),
        f"{FIRST}.url",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "button without label or emoji": (
        one({"type": 2, "style": 1, "custom_id": "b"}),
        f"{FIRST}.label",
        None,
    ),
    "link button without label or emoji": (
        one({"type": 2, "style": 5, "url": "https://example.com"}),
        f"{FIRST}.label",
        None,
    ),
    "six buttons in a row": (
        {"components": [row(*(button(f"b{i}") for i in range(6)))]},
        "components.0.components",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "six rows": (
        {"components": [row(button(f"r{i}")) for i in range(6)]},
        "components",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "duplicate custom ids": (
        {"components": [row(button("same")), row(button("same"))]},
        "components.1.components.0.custom_id",
        "COMPONENT_CUSTOM_ID_DUPLICATED",
    ),
    # embeds
    "embed url not http": (
        embed(url="ftp://example.com"),
        "embeds.0.url",
        "URL_TYPE_INVALID_SCHEME",
    ),
    "embed url not a url": (embed(url="example"), "embeds.0.url", "URL_TYPE_INVALID_SCHEME"),
    "embed image url": (
        embed(image={"url": "javascript:alert(1)"}),
        "embeds.0.image.url",
        "URL_TYPE_INVALID_SCHEME",
    ),
    "embed thumbnail url": (
        embed(thumbnail={"url": "https://"}),
        "embeds.0.thumbnail.url",
        "URL_TYPE_INVALID_URL",
    ),
    "colour over 0xFFFFFF": (embed(color=0x1000000), "embeds.0.color", "NUMBER_TYPE_MAX"),
    "negative colour": (embed(color=-1), "embeds.0.color", "NUMBER_TYPE_MIN"),
    "bad timestamp": (embed(timestamp="yesterday"), "embeds.0.timestamp", None),
    "title over 256": (embed(title="t" * 257), "embeds.0.title", "BASE_TYPE_MAX_LENGTH"),
    "description over 4096": (
        embed(description="d" * 4097),
        "embeds.0.description",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "field name over 256": (
        embed(fields=[{"name": "n" * 257, "value": "v"}]),
        "embeds.0.fields.0.name",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "field value over 1024": (
        embed(fields=[{"name": "n", "value": "v" * 1025}]),
        "embeds.0.fields.0.value",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "empty field value": (
        embed(fields=[{"name": "n", "value": ""}]),
        "embeds.0.fields.0.value",
        "BASE_TYPE_REQUIRED",
    ),
    "26 fields": (
        embed(fields=[{"name": "n", "value": "v"}] * 26),
        "embeds.0.fields",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "footer over 2048": (
        embed(footer={"text": "f" * 2049}),
        "embeds.0.footer.text",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "author name over 256": (
        embed(author={"name": "a" * 257}),
        "embeds.0.author.name",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "over 6000 across embeds": (
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        "embeds",
        "MAX_EMBED_SIZE_EXCEEDED",
    ),
    "11 embeds": ({"embeds": [{"title": "t"}] * 11}, "embeds", "BASE_TYPE_MAX_LENGTH"),
    # messages
    "content over 2000": ({"content": "c" * 2001}, "content", "BASE_TYPE_MAX_LENGTH"),
    "duplicate allowed users": (
        {"content": "hi", "allowed_mentions": {"users": ["1", "1"]}},
        "allowed_mentions.users.1",
        "SET_TYPE_ALREADY_CONTAINS_VALUE",
    ),
    "duplicate allowed roles": (
        {"content": "hi", "allowed_mentions": {"roles": ["2", "2"]}},
        "allowed_mentions.roles.1",
        "SET_TYPE_ALREADY_CONTAINS_VALUE",
    ),
    "parse users with a users list": (
        {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
        "allowed_mentions",
        "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
    ),
    "11 attachments": (
        {"content": "hi", "attachments": [{"id": str(i)} for i in range(11)]},
        "attachments",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "nonce over 25": ({"content": "hi", "nonce": "n" * 26}, "nonce", "BASE_TYPE_MAX_LENGTH"),
    "four stickers": ({"sticker_ids": ["1", "2", "3", "4"]}, "sticker_ids", "BASE_TYPE_MAX_LENGTH"),
    "sticker id not a snowflake": (
        {"sticker_ids": ["first"]},
        "sticker_ids.0",
        "NUMBER_TYPE_COERCE",
    ),
    "tts a string": ({"content": "hi", "tts": "yes"}, "tts", "BASE_TYPE_BOOLEAN"),
    "tts a number": ({"content": "hi", "tts": 1}, "tts", "BASE_TYPE_BOOLEAN"),
    "enforce_nonce a string": (
        {"content": "hi", "nonce": "n1", "enforce_nonce": "true"},
        "enforce_nonce",
        "BASE_TYPE_BOOLEAN",
    ),
    "replied_user a string": (
        {"content": "hi", "allowed_mentions": {"replied_user": "no"}},
        "allowed_mentions.replied_user",
        "BASE_TYPE_BOOLEAN",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_refused_body_answers_50035_at_the_fields_path(
    raw: tuple[RawApi, Scene], case: str
) -> None:
    api, scene = raw
    body, path, code = REFUSED[case]
    status, answer = await api.send(scene.channel.id, body)
    assert (status, answer["code"], answer["message"]) == (400, 50035, "Invalid Form Body")
    paths = error_paths(answer)
    assert path in paths, paths
    if code is not None:
        assert code in paths[path]
    assert scene.fake.channel_messages(scene.channel) == []


ACCEPTED: dict[str, dict[str, Any]] = {
    "link button": one({"type": 2, "style": 5, "label": "Site", "url": "https://example.com"}),
    "five buttons": {"components": [row(*(button(f"b{i}") for i in range(5)))]},
    "select at the limits": one(
        select(
            options=[option(str(i), description="d" * 100) for i in range(25)],
            min_values=0,
            max_values=25,
            placeholder="p" * 150,
        )
    ),
    "user select without options": one({"type": 5, "custom_id": "who", "max_values": 25}),
    "embed at the limits": embed(
        url="http://example.com/a",
        color=0xFFFFFF,
        timestamp="2026-11-30T22:00:00.123000+00:00",
        image={"url": "attachment://clip.png"},
        thumbnail={"url": "https://cdn.example.com/t.png"},
        fields=[{"name": "n", "value": "v"}] * 25,
    ),
    "allowed mentions lists": {
        "content": "hi",
        "allowed_mentions": {"parse": ["everyone"], "users": ["1", "2"], "roles": ["3"]},
    },
    "integer nonce": {"content": "hi", "nonce": 12345},
    "link button url of 512": one({"type": 2, "style": 5, "label": "Site", "url": URL_512}),
    "emoji-only button": one({"type": 2, "style": 1, "custom_id": "b", "emoji": {"name": "🎬"}}),
    "three stickers": {"sticker_ids": ["1", 2, "3"]},
    "tts and enforce_nonce booleans": {
        "content": "hi",
        "tts": False,
        "nonce": "n1",
        "enforce_nonce": True,
        "allowed_mentions": {"replied_user": False},
    },
}


async def test_fields_only_a_create_takes_are_not_checked_on_edit(
    raw: tuple[RawApi, Scene],
) -> None:
    """An edit has no ``tts``, ``enforce_nonce`` or ``sticker_ids``: Discord ignores them."""
    api, scene = raw
    status, sent = await api.send(scene.channel.id, {"content": "ok"})
    assert status == 200
    edit = f"/channels/{scene.channel.id}/messages/{sent['id']}"
    body = {"content": "edited", "tts": "yes", "enforce_nonce": 1, "sticker_ids": ["1"] * 4}
    status, answer = await api.request("PATCH", edit, json=body)
    assert status == 200, answer
    assert answer["content"] == "edited"


@pytest.mark.parametrize("case", sorted(ACCEPTED))
async def test_valid_body_at_the_limits_is_accepted(raw: tuple[RawApi, Scene], case: str) -> None:
    api, scene = raw
    status, answer = await api.send(scene.channel.id, ACCEPTED[case])
    assert status == 200, answer
