"""Just enough of Discord for the notifier: a channel that refuses as told, and an
outbox that sends at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import discord


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
    content: str
    file: bytes | None
    filename: str | None


@dataclass
class Channel:
    """Refuses the first `refusals` sends with the given errors, then accepts; message
    ids count the sends."""

    refusals: list[discord.HTTPException]
    sent: list[str] = field(default_factory=list)
    posts: list[Sent] = field(default_factory=list)

    async def send(self, content: str, **options: Any) -> Any:
        self.sent.append(content)
        attachment: discord.File | None = options.get("file")
        data = attachment.fp.read() if attachment is not None else None
        self.posts.append(Sent(content, data, attachment.filename if attachment else None))
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
