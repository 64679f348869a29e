"""What the fake records: messages (with edit history and attachments) and request/error logs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import layout_reading
from .mentions import Pings
from .world import FakeChannel, FakeUser

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
HAS_THREAD = 1 << 5


@dataclass(eq=False)
class FakeAttachment:
    """An uploaded file; bytes stay in memory when small, in a temp file (``path``) when large."""

    id: int
    filename: str
    size: int
    content_type: str
    description: str | None = None
    data: bytes | None = None
    path: Path | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    @property
    def in_memory(self) -> bool:
        return self.data is not None


@dataclass(frozen=True)
class MessageVersion:
    """One state of a message: the creation, then one per accepted edit."""

    content: str
    embeds: tuple[dict[str, Any], ...]
    components: tuple[dict[str, Any], ...]
    attachments: tuple[FakeAttachment, ...]
    flags: int
    at: datetime


@dataclass(eq=False)
class FakeMessage:
    """A message as Discord stores it, plus everything a test wants to assert about it."""

    id: int
    channel: FakeChannel
    author: FakeUser
    created_at: datetime
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    type: int = 0
    nonce: str | int | None = None
    message_reference: dict[str, Any] | None = None
    allowed_mentions: dict[str, Any] | None = None
    webhook_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    interaction_id: int | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    deleted_at: datetime | None = None
    pings: Pings | None = None
    history: list[MessageVersion] = field(default_factory=list)
    thread: FakeChannel | None = None
    """The thread started from this message (it shares the message's id)."""

    @property
    def channel_id(self) -> int:
        return self.channel.id

    @property
    def guild_id(self) -> int | None:
        return self.channel.guild_id

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred response still showing "thinking"."""
        return bool(self.flags & LOADING)

    @property
    def edit_count(self) -> int:
        return max(len(self.history) - 1, 0)

    def snapshot(self, at: datetime) -> MessageVersion:
        return MessageVersion(
            self.content,
            tuple(self.embeds),
            tuple(self.components),
            tuple(self.attachments),
            self.flags,
            at,
        )

    def iter_components(self) -> Iterator[dict[str, Any]]:
        """Every component, depth first (rows, containers, sections, accessories)."""
        yield from iter_components(self.components)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.iter_components() if "custom_id" in c]

    def component(self, custom_id: str) -> dict[str, Any] | None:
        return next((c for c in self.iter_components() if c.get("custom_id") == custom_id), None)

    def attachment(self, filename: str) -> FakeAttachment:
        for attachment in self.attachments:
            if attachment.filename == filename:
                return attachment
        raise KeyError(f"message {self.id} has no attachment {filename!r}")

    # Components V2 readers ------------------------------------------------------------

    @property
    def is_v2(self) -> bool:
        """Sent with the IS_COMPONENTS_V2 flag: its text and media live in components."""
        return bool(self.flags & IS_COMPONENTS_V2)

    @property
    def text(self) -> str:
        """What the message says: for a Components V2 message every text display, joined by
        newlines in reading order; otherwise its content."""
        if self.is_v2:
            return "\n".join(layout_reading.text_displays(self.components))
        return self.content

    @property
    def media_items(self) -> list[dict[str, Any]]:
        """Every media gallery item, in order (``item["media"]["url"]`` and what Discord
        filled in: ``attachment_id``, ``content_type``)."""
        return layout_reading.media_items(self.components)

    def attachment_for(self, media: dict[str, Any]) -> FakeAttachment | None:
        """The attachment of this message that a media gallery item (or an unfurled media
        item, a thumbnail or a File component) shows, if it names one with
        ``attachment://``; ``None`` for an external URL or a name the message lacks."""
        inner = media.get("media") or media.get("file") or media
        name = layout_reading.attachment_name(inner)
        return next((a for a in self.attachments if a.filename == name), None)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every button, in action rows or as a section's accessory, in reading order."""
        return layout_reading.buttons(self.components)


def iter_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        yield component
        children = component.get("components")
        if isinstance(children, list):
            yield from iter_components(children)
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, dict):
                yield from iter_components([child])


@dataclass(frozen=True)
class CallbackRecord:
    """An accepted interaction callback: its type (4, 5, 6, 7, 8, 9), data and timing."""

    type: int
    data: dict[str, Any]
    elapsed: float

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    route: str
    status: int
    at: float
    duration: float


@dataclass(frozen=True)
class ErrorRecord:
    """A 4xx the fake answered; ``code`` is Discord's JSON code (None for 429)."""

    method: str
    path: str
    status: int
    code: int | None
    message: str
    at: float
    errors: dict[str, Any] | None = None
