"""A message body as the bot sent it (create or edit), before the fake applies it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .records import FakeAttachment
from .uploads import UploadedFile

MISSING: Any = object()


@dataclass(frozen=True)
class PlannedAttachment:
    """One attachment the message will have after the request: a new upload (with the
    ``attachments`` entry that names it, if any) or an existing attachment kept."""

    upload: UploadedFile | None
    kept: FakeAttachment | None
    entry: dict[str, Any]

    @property
    def filename(self) -> str:
        if self.upload is None:
            assert self.kept is not None
            return self.kept.filename
        return str(self.entry.get("filename") or self.upload.filename)


@dataclass
class MessageDraft:
    """Fields the request carried; ``MISSING`` marks fields an edit leaves untouched."""

    content: Any = MISSING
    embeds: Any = MISSING
    components: Any = MISSING
    attachments: Any = MISSING
    flags: Any = MISSING
    allowed_mentions: Any = MISSING
    message_reference: Any = MISSING
    nonce: Any = MISSING
    enforce_nonce: Any = MISSING
    tts: Any = MISSING
    sticker_ids: Any = MISSING
    poll: Any = MISSING
    files: list[UploadedFile] = field(default_factory=list)

    @classmethod
    def from_payload(cls, payload: dict[str, Any], files: list[UploadedFile]) -> MessageDraft:
        draft = cls(files=files)
        for name in (
            "content",
            "embeds",
            "components",
            "attachments",
            "flags",
            "allowed_mentions",
            "message_reference",
            "nonce",
            "enforce_nonce",
            "tts",
            "sticker_ids",
            "poll",
        ):
            if name in payload:
                setattr(draft, name, payload[name])
        return draft

    def fields(self) -> dict[str, Any]:
        """The JSON fields the request carried, as sent (types unchecked)."""
        return {
            name: value
            for name, value in vars(self).items()
            if value is not MISSING and name != "files"
        }

    def given(self, name: str) -> bool:
        return getattr(self, name) is not MISSING

    def value(self, name: str, default: Any) -> Any:
        value = getattr(self, name)
        return default if value is MISSING or value is None else value

    @property
    def embed_list(self) -> list[dict[str, Any]]:
        """The embeds as Discord stores them: a field sent as ``null`` is left out (echoed
        back as ``null``, a colour would crash discord.py's ``Embed.from_dict``)."""
        return [
            {key: value for key, value in embed.items() if value is not None}
            for embed in self.value("embeds", [])
        ]

    @property
    def component_list(self) -> list[dict[str, Any]]:
        return list(self.value("components", []))

    @property
    def speaks(self) -> bool:
        """``tts: true`` (checked to be a boolean before the draft is applied)."""
        return self.value("tts", False) is True

    @property
    def enforces_nonce(self) -> bool:
        return self.value("enforce_nonce", False) is True

    @property
    def flag_bits(self) -> int:
        return int(self.value("flags", 0))

    def file_for(self, attachment: dict[str, Any]) -> UploadedFile | None:
        """The ``files[n]`` part an ``attachments`` entry refers to (its ``id`` is ``n``)."""
        try:
            index = int(attachment.get("id", -1))
        except (TypeError, ValueError):
            return None
        return next((f for f in self.files if f.index == index), None)

    def attachment_plan(self, existing: list[FakeAttachment]) -> list[PlannedAttachment]:
        """The attachments after this request. Without an ``attachments`` list, what exists
        plus every uploaded part. With one, entries keep existing files by id or name new
        ``files[n]`` parts (by ``id`` = n); parts no entry names are attached too. Entries
        that are not objects are skipped (validation reports them)."""
        if not self.given("attachments"):
            return [PlannedAttachment(None, a, {}) for a in existing] + [
                PlannedAttachment(f, None, {}) for f in self.files
            ]
        by_id = {a.id: a for a in existing}
        planned: list[PlannedAttachment] = []
        used: set[int] = set()
        entries = self.value("attachments", [])
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            upload = self.file_for(entry)
            if upload is not None and upload.index not in used:
                used.add(upload.index)
                planned.append(PlannedAttachment(upload, None, entry))
            elif (prior := by_id.get(_as_int(entry.get("id")))) is not None:
                planned.append(PlannedAttachment(None, prior, entry))
        unnamed = [PlannedAttachment(f, None, {}) for f in self.files if f.index not in used]
        return planned + unnamed


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
