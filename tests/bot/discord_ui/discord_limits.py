"""Discord's limits on what a bot sends, checked on built messages (by the property tests)."""

from __future__ import annotations

from typing import Any

import discord

CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBED_TOTAL = 6000
OPTION_TEXT = 100
CHOICE_NAME = 100


def assert_content_fits(content: str) -> None:
    assert 0 < len(content) <= CONTENT, len(content)


def assert_embed_fits(embed: discord.Embed) -> None:
    data: dict[str, Any] = embed.to_dict()
    title = data.get("title", "")
    description = data.get("description", "")
    footer = data.get("footer", {}).get("text", "")
    fields = data.get("fields", [])
    assert len(title) <= TITLE
    assert len(description) <= DESCRIPTION
    assert len(footer) <= FOOTER
    assert len(fields) <= 25
    for item in fields:
        assert 0 < len(item["name"]) <= FIELD_NAME, item["name"]
        assert 0 < len(item["value"]) <= FIELD_VALUE, len(item["value"])
    total = len(title) + len(description) + len(footer)
    total += sum(len(item["name"]) + len(item["value"]) for item in fields)
    assert total <= EMBED_TOTAL, total
