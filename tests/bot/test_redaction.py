"""One redaction for credentials in outside text and in every log line."""

from __future__ import annotations

import logging
import sys

import pytest

from bot.jobs.model import Failure
from bot.logs import QUIET_LOGGERS, setup_logging
from bot.redaction import REDACTED, RedactingFilter, redact
from bot.wording import failure_text

INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpmb28" + "x" * 60
BOT_TOKEN = "MTA4NzY1NDMyMTA5ODc2NTQzMg.GaBcDe.abcdefghijklmnopqrstuvwxyz0123"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("401: header was Bearer rc-abc123456789", "rc-abc123456789"),
        ("Authorization: bearer%20rc-abc123456789", "rc-abc123456789"),
        (f"Authorization: Bot {BOT_TOKEN}", BOT_TOKEN),
        (f"token {BOT_TOKEN} leaked", BOT_TOKEN),
        (f"POST /api/v10/interactions/123/{INTERACTION_TOKEN}/callback", INTERACTION_TOKEN),
        (f"PATCH /api/v10/webhooks/55/{INTERACTION_TOKEN}/messages/@original", INTERACTION_TOKEN),
        (f"saw {INTERACTION_TOKEN}", INTERACTION_TOKEN),
    ],
)
def test_token_shapes_are_redacted(text: str, secret: str) -> None:
    clean = redact(text)
    assert secret not in clean
    assert REDACTED in clean


def test_known_secrets_are_redacted_wherever_they_appear() -> None:
    assert redact("the key was plainsecret42!", ["plainsecret42"]) == f"the key was {REDACTED}!"


def test_ordinary_text_is_left_alone() -> None:
    text = "Bot restarted; Bearer of bad news. The model could not render this prompt."
    assert redact(text, ["", "short"]) == text


def test_failure_reasons_are_redacted_and_short() -> None:
    detail = "Bearer rc-secret-token-123 " + "x" * 5000
    text = failure_text(Failure.GENERATION_FAILED, detail)
    assert "rc-secret-token-123" not in text
    assert len(text) < 600


def test_the_filter_redacts_messages_arguments_and_tracebacks() -> None:
    try:
        raise RuntimeError("Bearer rc-in-a-traceback-1")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "asked with %s", ("Bot a.b.c",), None
        )
        record.exc_info = sys.exc_info()
    RedactingFilter(["plainsecret42"]).filter(record)
    assert record.getMessage() == f"asked with Bot {REDACTED}"
    assert record.exc_text is not None
    assert "rc-in-a-traceback-1" not in record.exc_text


def test_setup_logging_redacts_every_handler_and_quietens_the_webhook_logger() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET_LOGGERS)}
    try:
        setup_logging("INFO", ["plainsecret42"])
        added = [handler for handler in root.handlers if handler not in before]
        assert added
        assert all(
            any(isinstance(f, RedactingFilter) for f in handler.filters) for handler in added
        )
        assert logging.getLogger("discord.webhook.async_").level == logging.WARNING
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
