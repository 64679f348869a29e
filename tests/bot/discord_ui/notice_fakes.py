"""Just enough of Discord for the notifier: a channel that refuses as told (and checks
every card against Discord's Components V2 rules), and an outbox that sends at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import discord
from discord import ui

from tests.bot.discord_ui.cards import assert_discord_takes, text_of


@dataclass
class Response:
    status: int
    reason: str = "refused"


def http_error(
    status: int, text: str = "Invalid Form Body", code: int = 50035
) -> discord.HTTPException:
    return discord.HTTPException(Response(status), {"code": code, "message": text})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Sent:
    text: str
    """The card's text displays."""
    card: ui.LayoutView
    file: bytes | None
    filename: str | None


@dataclass
class Channel:
    """Refuses the first `refusals` sends with the given errors, then accepts; message
    ids count the sends."""

    refusals: list[discord.HTTPException]
    sent: list[str] = field(default_factory=list)
    posts: list[Sent] = field(default_factory=list)

    async def send(self, content: str | None = None, **options: Any) -> Any:
        assert content is None, "a card has no content beside it"
        card: ui.LayoutView = options["view"]
        attachment: discord.File | None = options.get("file")
        filename = attachment.filename if attachment else None
        assert_discord_takes(card, (filename,) if filename else ())
        self.sent.append(text_of(card))
        data = attachment.fp.read() if attachment is not None else None
        self.posts.append(Sent(text_of(card), card, data, filename))
        if self.refusals:
            raise self.refusals.pop(0)
        return discord.Object(len(self.sent))


@dataclass
class Client:
    channel: Channel
    user: None = None

    def get_partial_messageable(self, channel_id: int, **options: Any) -> Channel:
        return self.channel


class Outbox:
    async def send(self, channel_id: int, send: Any, **options: Any) -> Any:
        return await send()
