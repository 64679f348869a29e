"""Logging, set up once for the whole process: lines for people, or JSON for machines.

Text lines use discord.py's format, coloured only when stderr is a terminal (discord.py
on its own also colours whatever it takes for Docker's, a file included). `LOG_FORMAT=json`
writes one object per line with the time, level, logger, message and, where known, the
job, server and RunComfy request the line is about (`bot.log_context`). Every line of
either is redacted, and the two warnings discord.py gives every client about voice
libraries (a text bot has no use for voice) are dropped.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

import discord

from bot import log_context
from bot.config import LogFormat, Settings
from bot.redaction import RedactingFilter

QUIET_LOGGERS = ("discord.http", "discord.gateway", "discord.webhook.async_")
"""Chatty at DEBUG; the webhook logger prints interaction tokens in its URLs."""
VOICE_WARNINGS = frozenset(
    {
        "PyNaCl is not installed, voice will NOT be supported",
        "davey is not installed, voice will NOT be supported",
    }
)
"""What discord.py's client logs on creation when the voice libraries are missing."""
VOICE_LOGGER = "discord.client"
TEXT_FORMAT = "[{asctime}] [{levelname:<8}] {name}: {message}"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def setup_logging(
    level: str,
    secrets: Iterable[str] = (),
    *,
    log_format: LogFormat = LogFormat.TEXT,
    stream: TextIO | None = None,
) -> logging.Handler:
    """One handler on the root logger writing to `stream` (stderr), every line redacted
    (`secrets` and anything shaped like a token); discord.py's chatty loggers quietened
    and its voice warnings dropped. Returns the handler."""
    stream = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(stream)
    formatter: logging.Formatter | Any
    if log_format is LogFormat.JSON:
        formatter = JsonFormatter()
    elif _is_terminal(stream):
        formatter = discord.utils.MISSING  # discord.py's colours
    else:
        formatter = logging.Formatter(TEXT_FORMAT, TIME_FORMAT, style="{")
    discord.utils.setup_logging(
        handler=handler, formatter=formatter, level=getattr(logging, level), root=True
    )
    install_redaction(handler, secrets)
    handler.addFilter(ContextFilter())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    voice = logging.getLogger(VOICE_LOGGER)
    if not any(isinstance(f, NoVoiceWarnings) for f in voice.filters):
        voice.addFilter(NoVoiceWarnings())
    return handler


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def install_redaction(handler: logging.Handler, secrets: Iterable[str] = ()) -> None:
    """On the handler, so records of every logger (they propagate to it) are redacted."""
    handler.addFilter(RedactingFilter(secrets))


def secrets_of(settings: Settings) -> list[str]:
    """The configured tokens and the database password, so a line echoing one bare is
    still redacted."""
    tokens = [settings.runcomfy.api_token.reveal()]
    if settings.discord is not None:
        tokens.append(settings.discord.token.reveal())
    if settings.postgres is not None:
        tokens.extend(settings.postgres.secrets())
    return tokens


class ContextFilter(logging.Filter):
    """Copies the job, server and request id of the logging task onto the record, unless
    the call gave its own (`extra=`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in log_context.current().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class NoVoiceWarnings(logging.Filter):
    """Drops exactly discord.py's two voice-library warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg in VOICE_WARNINGS)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in log_context.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)
