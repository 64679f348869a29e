"""Member blocks and strikes: who may not spend for a while, and when refused content
blocks a member by itself.

A strike is one job that RunComfy refused or failed *for its content*. RunComfy has no
error code for that: its documented codes name a bad model, balance, token, request id,
a validation error (422) and server errors, and a failed generation carries only a free
text `error`. So a strike is counted only when that text says so in words providers use
for content moderation (`CONTENT_WORDS`), on a job refused at submit (`INPUT_REFUSED`,
the bot's own checks having passed) or failed while generating (`GENERATION_FAILED`). A
failure without a reason, a timeout, an outage or any other failure never counts: a
member is not punished for RunComfy's trouble, and a missed strike costs less than a
wrong block.

At `threshold` strikes within `STRIKE_WINDOW` the member is blocked for the server's set
time, and those strikes are spent (cleared), so that after the block ends it takes
`threshold` new ones to block again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.jobs.model import Failure

STRIKE_WINDOW = 24 * 60 * 60
"""Strikes older than this do not count."""
BLOCK_DAYS_MAX = 3650
REASON_MAX_CHARS = 300
CONTENT_FAILURES = frozenset({Failure.INPUT_REFUSED, Failure.GENERATION_FAILED})
CONTENT_WORDS = re.compile(
    r"\b(?:moderat\w*|nsfw|safety|unsafe|inappropriate|prohibited|flagged|sexual|nudity|"
    r"harmful|offensive|censor\w*|sensitive (?:content|material|words?)|"
    r"explicit (?:content|material|imagery)|(?:content|usage|use) polic\w*|"
    r"polic\w* violation|violat\w* (?:\w+ ){0,2}(?:polic\w*|guidelines|terms))\b",
    re.IGNORECASE,
)
"""How content refusals are worded by RunComfy and the model providers behind it."""


def is_content_failure(failure: Failure | None, detail: str | None) -> bool:
    """Whether a failed job counts as a strike (see the module: conservative)."""
    if failure not in CONTENT_FAILURES or not detail:
        return False
    return CONTENT_WORDS.search(detail) is not None


@dataclass(frozen=True, slots=True)
class MemberBlock:
    """A member who may not start videos on a server until `until` (clock seconds)."""

    user_id: int
    until: float
    reason: str | None = None
    blocked_by: int | None = None
    """The moderator; None when strikes blocked the member."""
    blocked_at: float = 0.0

    @property
    def automatic(self) -> bool:
        return self.blocked_by is None

    def holds(self, now: float) -> bool:
        return now < self.until


@dataclass(frozen=True, slots=True)
class Strike:
    user_id: int
    job_id: int
    at: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StrikeRule:
    """A server's setting: `threshold` strikes within the window block for `block_hours`;
    a threshold of 0 turns strikes off."""

    threshold: int = 3
    block_hours: int = 24

    @property
    def on(self) -> bool:
        return self.threshold > 0

    def blocks(self, strikes_in_window: int) -> bool:
        return self.on and strikes_in_window >= self.threshold

    def block_until(self, now: float) -> float:
        return now + self.block_hours * 3600.0
