"""One redaction for every text built from outside data that can reach Discord or the log.

RunComfy's failure reasons, Discord's error texts and discord.py's own debug lines can
echo credentials: the RunComfy token (`Bearer …`), the bot token (`Bot …`), interaction
tokens (inside webhook URLs). Shapes are recognised without knowing the values; the log
filter also knows the configured tokens and hides them wherever they appear.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"

_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization values: `Bearer <token>`, `Bot <a.b.c>`.
    (re.compile(r"(?i)\b(Bearer)(\s+|%20)[^\s\"',;]{8,}"), rf"\1\2{REDACTED}"),
    (re.compile(r"\b(Bot)(\s+|%20)[\w-]+\.[\w-]+\.[\w-]+"), rf"\1\2{REDACTED}"),
    # Discord bot tokens on their own: base64 user id, timestamp, HMAC.
    (re.compile(r"\b[MNO][\w-]{23,27}\.[\w-]{6}\.[\w-]{27,}"), REDACTED),
    # Interaction tokens start with base64("interaction:").
    (re.compile(r"aW50ZXJhY3Rpb246[\w-]+"), REDACTED),
    # Webhook and interaction URLs carry the token as the path segment after the id.
    (re.compile(r"(/(?:webhooks|interactions)/\d+/)[\w.-]+"), rf"\1{REDACTED}"),
)

_MIN_SECRET_CHARS = 8
"""Shorter "secrets" (an empty or test value) would blank out ordinary words."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with credentials replaced by `[redacted]`: the given secrets, then any shape
    that looks like one."""
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_CHARS:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with `redact` before any handler
    formats it; it never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self._secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        return True
