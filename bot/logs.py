"""Logging, set up once for the whole process."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import discord

from bot.config import Settings
from bot.redaction import RedactingFilter

QUIET_LOGGERS = ("discord.http", "discord.gateway", "discord.webhook.async_")
"""Chatty at DEBUG; the webhook logger prints interaction tokens in its URLs."""


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """discord.py's colourful handler on the root logger, every line redacted (`secrets` and
    anything shaped like a token); its chatty loggers quietened."""
    discord.utils.setup_logging(level=getattr(logging, level), root=True)
    for handler in logging.getLogger().handlers:
        install_redaction(handler, secrets)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def install_redaction(handler: logging.Handler, secrets: Iterable[str] = ()) -> None:
    """On the handler, so records of every logger (they propagate to it) are redacted."""
    handler.addFilter(RedactingFilter(secrets))


def secrets_of(settings: Settings) -> list[str]:
    """The configured tokens, so a line echoing one bare is still redacted."""
    tokens = [settings.runcomfy.api_token.reveal()]
    if settings.discord is not None:
        tokens.append(settings.discord.token.reveal())
    return tokens
