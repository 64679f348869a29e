"""Raw HTTP against the fake (no discord.py in between), to send bodies a client never would."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from typing import Any

import aiohttp

from testkit.discord import FakeDiscord


class RawApi:
    """Requests with the bot's token; answers ``(status, parsed JSON or None)``."""

    def __init__(self, fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.http = http

    async def request(
        self, method: str, path: str, *, json: Any = None, data: bytes | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bot {self.fake.bot_token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self.http.request(
            method, self.fake.api_base + path, json=json, data=data, headers=headers
        ) as response:
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    async def upload(
        self, method: str, path: str, payload: Any, files: Mapping[str, bytes]
    ) -> tuple[int, Any]:
        """Multipart as discord.py sends it: ``payload_json`` then ``files[n]`` parts named
        by ``files`` (filename -> bytes), numbered in order."""
        form = aiohttp.FormData()
        form.add_field("payload_json", jsonlib.dumps(payload), content_type="application/json")
        for index, (filename, data) in enumerate(files.items()):
            form.add_field(
                f"files[{index}]",
                data,
                filename=filename,
                content_type="application/octet-stream",
            )
        headers = {"Authorization": f"Bot {self.fake.bot_token}"}
        async with self.http.request(
            method, self.fake.api_base + path, data=form, headers=headers
        ) as response:
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    async def send(
        self, channel_id: int, body: Any, files: Mapping[str, bytes] | None = None
    ) -> tuple[int, Any]:
        path = f"/channels/{channel_id}/messages"
        if files:
            return await self.upload("POST", path, body, files)
        return await self.request("POST", path, json=body)

    async def edit(
        self,
        channel_id: int,
        message_id: int | str,
        body: Any,
        files: Mapping[str, bytes] | None = None,
    ) -> tuple[int, Any]:
        path = f"/channels/{channel_id}/messages/{message_id}"
        if files:
            return await self.upload("PATCH", path, body, files)
        return await self.request("PATCH", path, json=body)

    async def put_commands(self, commands: Any) -> tuple[int, Any]:
        path = f"/applications/{self.fake.application_id}/commands"
        return await self.request("PUT", path, json=commands)

    async def callback(self, interaction_id: int, token: str, body: Any) -> tuple[int, Any]:
        return await self.request(
            "POST", f"/interactions/{interaction_id}/{token}/callback", json=body
        )


def error_paths(body: dict[str, Any]) -> dict[str, list[str]]:
    """A 50035 body's ``errors`` tree flattened to ``{"components.0.label": [codes]}``."""
    flat: dict[str, list[str]] = {}

    def walk(node: dict[str, Any], path: list[str]) -> None:
        for key, child in node.items():
            if key == "_errors":
                flat[".".join(path)] = [e["code"] for e in child]
            else:
                walk(child, [*path, key])

    walk(body.get("errors") or {}, [])
    return flat
