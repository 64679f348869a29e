"""Malformed bodies (not JSON, wrong types) are refused with 400 as Discord does, never a 500."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import yarl

from .conftest import Scene
from .raw_api import RawApi

WRONG_TYPES: dict[str, Any] = {
    "array body": ["hello"],
    "content a number": {"content": 5},
    "embeds an object": {"embeds": {"title": "t"}},
    "embed not an object": {"embeds": ["t"]},
    "embed fields a string": {"embeds": [{"fields": "f"}]},
    "embed footer a string": {"embeds": [{"footer": "f"}]},
    "embed colour a string": {"embeds": [{"title": "t", "color": "red"}]},
    "embed timestamp a number": {"embeds": [{"title": "t", "timestamp": 5}]},
    "components a string": {"components": "c"},
    "component a list": {"components": [[1]]},
    "row children a string": {"components": [{"type": 1, "components": "b"}]},
    "select options an object": {
        "components": [{"type": 1, "components": [{"type": 3, "custom_id": "s", "options": {}}]}]
    },
    "select min_values a word": {
        "components": [
            {
                "type": 1,
                "components": [
                    {
                        "type": 3,
                        "custom_id": "s",
                        "min_values": "one",
                        "options": [{"label": "a", "value": "a"}],
                    }
                ],
            }
        ]
    },
    "allowed_mentions a list": {"content": "hi", "allowed_mentions": ["users"]},
    "allowed users a string": {"content": "hi", "allowed_mentions": {"users": "1"}},
    "allowed user id a word": {"content": "hi", "allowed_mentions": {"users": ["alice"]}},
    "allowed user id an object": {"content": "hi", "allowed_mentions": {"users": [{"id": 1}]}},
    "allowed role id a list": {"content": "hi", "allowed_mentions": {"roles": [[2]]}},
    "allowed role id a float": {"content": "hi", "allowed_mentions": {"roles": [2.5]}},
    "allowed parse item a list": {"content": "hi", "allowed_mentions": {"parse": [["users"]]}},
    "component type a list": {"components": [{"type": [1], "components": []}]},
    "component type an object": {"components": [{"type": {"row": 1}, "components": []}]},
    "button type a list": {
        "components": [
            {"type": 1, "components": [{"type": [2], "style": 1, "label": "b", "custom_id": "b"}]}
        ]
    },
    "embed null": {"embeds": [None]},
    "attachments a string": {"content": "hi", "attachments": "a"},
    "flags a word": {"content": "hi", "flags": "silent"},
    "nonce an object": {"content": "hi", "nonce": {}},
    "message_reference a string": {"content": "hi", "message_reference": "1"},
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
async def test_wrong_types_in_a_message_are_400(raw: tuple[RawApi, Scene], case: str) -> None:
    api, scene = raw
    status, answer = await api.send(scene.channel.id, WRONG_TYPES[case])
    assert (status, answer["code"]) == (400, 50035), answer
    status, sent = await api.send(scene.channel.id, {"content": "ok"})
    assert status == 200
    edit = f"/channels/{scene.channel.id}/messages/{sent['id']}"
    status, answer = await api.request("PATCH", edit, json=WRONG_TYPES[case])
    assert (status, answer["code"]) == (400, 50035), answer


@pytest.mark.parametrize("route", ["message", "commands", "command"])
async def test_body_that_is_not_json_is_50109(raw: tuple[RawApi, Scene], route: str) -> None:
    api, scene = raw
    app = scene.fake.application_id
    path = {
        "message": ("POST", f"/channels/{scene.channel.id}/messages"),
        "commands": ("PUT", f"/applications/{app}/commands"),
        "command": ("POST", f"/applications/{app}/commands"),
    }[route]
    status, answer = await api.request(*path, data=b"{not json")
    assert (status, answer["code"]) == (400, 50109)


async def test_multipart_payload_json_must_be_an_object(raw: tuple[RawApi, Scene]) -> None:
    api, scene = raw
    url = f"{scene.fake.api_base}/channels/{scene.channel.id}/messages"
    for payload, code in (("{not json", 50109), (json.dumps(["hi"]), 50035)):
        form = aiohttp.FormData()
        form.add_field("payload_json", payload, content_type="application/json")
        form.add_field("files[0]", b"data", filename="a.txt")
        headers = {"Authorization": f"Bot {scene.fake.bot_token}"}
        async with api.http.post(url, data=form, headers=headers) as response:
            assert response.status == 400
            assert (await response.json())["code"] == code


COMMANDS: dict[str, Any] = {
    "body an object": {"name": "video"},
    "name a number": [{"name": 5, "description": "d"}],
    "type a word": [{"type": "slash", "name": "video", "description": "d"}],
    "options an object": [{"name": "video", "description": "d", "options": {}}],
    "choices a string": [
        {
            "name": "video",
            "description": "d",
            "options": [{"type": 3, "name": "p", "description": "d", "choices": "c"}],
        }
    ],
    "localizations a list": [{"name": "video", "description": "d", "name_localizations": []}],
    "null command": [None],
    "null among commands": [{"name": "video", "description": "d"}, None],
}


@pytest.mark.parametrize("case", sorted(COMMANDS))
async def test_wrong_types_in_commands_are_400(raw: tuple[RawApi, Scene], case: str) -> None:
    api, _ = raw
    status, answer = await api.put_commands(COMMANDS[case])
    assert (status, answer["code"]) == (400, 50035), answer


async def test_an_upload_cut_off_by_a_dying_client_posts_nothing_and_logs_no_error(
    raw: tuple[RawApi, Scene],
) -> None:
    """A bot process killed mid-upload: the fake, like Discord, just drops the request."""
    api, scene = raw
    url = yarl.URL(api.fake.api_base)
    boundary = "cut-off"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\n'
        'Content-Type: application/json\r\n\r\n{"content": "hal'
    ).encode()
    request = (
        f"POST {url.path}/channels/{scene.channel.id}/messages HTTP/1.1\r\n"
        f"Host: {url.host}:{url.port}\r\nAuthorization: Bot {api.fake.bot_token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 10_000}\r\n\r\n"
    ).encode() + head
    _reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(request)
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.transport.abort()
    await asyncio.sleep(0.2)
    assert api.fake.channel_messages(scene.channel) == []
    status, _ = await api.send(scene.channel.id, {"content": "still works"})
    assert status == 200
