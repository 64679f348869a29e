"""Response helpers: Discord's JSON (Content-Type exactly ``application/json``) and 204s."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """discord.py only parses bodies whose Content-Type is exactly ``application/json``;
    ``web.json_response`` would append ``; charset=utf-8``."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def truthy(value: str | None) -> bool:
    """Query booleans as Discord reads them (``true``/``1``/``True``)."""
    return (value or "").lower() in ("1", "true", "yes")


def as_id(value: object) -> int:
    """A snowflake from JSON or a path; 0 (never a real id) when malformed."""
    try:
        return int(str(value))
    except ValueError:
        return 0


def path_id(request: web.Request, name: str) -> int:
    return as_id(request.match_info.get(name))
