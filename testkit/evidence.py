"""What the bot left behind, read back by scenarios and benchmarks: the job number in its
public reply, its video messages at the fake, its job rows and its logged problems."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from testkit.discord import FakeChannel, FakeDiscord, FakeInteraction
from testkit.process import ANSI

DELIVERY = re.compile(r"your video \*\*#(\d+)\*\* is ready")
"""The bot's video message names its job: "your video **#12** is ready"."""
LEVEL = re.compile(r'^\S+ \S+ \[?(ERROR|CRITICAL)\b|^\{.*"level": "(ERROR|CRITICAL)"')
"""An ERROR or CRITICAL line, in the text format or LOG_FORMAT=json."""
SETTLED_STATES = ("delivered", "delivery_failed", "failed", "cancelled", "submission_unknown")
_JOB_NUMBER = re.compile(r"Job #(\d+)")


def job_number(interaction: FakeInteraction) -> int | None:
    """The bot's job id from its public reply (the status message's footer *Job #12*)."""
    original = interaction.original
    if original is None or original.loading or original.deleted:
        return None
    footers = " ".join(str(embed.get("footer", {}).get("text", "")) for embed in original.embeds)
    match = _JOB_NUMBER.search(footers)
    return int(match[1]) if match else None


def posted_videos(fake: FakeDiscord, channels: Iterable[FakeChannel]) -> Counter[int]:
    """Job id → how many video messages the bot posted for it in these channels."""
    return Counter(
        int(match[1])
        for channel in channels
        for message in fake.channel_messages(channel, include_deleted=True)
        if message.author.id == fake.bot_user.id
        and (match := DELIVERY.search(message.text)) is not None
    )


def job_rows(database: Path) -> dict[int, tuple[str, str | None, str | None]]:
    """Job id → (state, failure, notice) from the bot's SQLite database (WAL lets us read
    alongside the bot); empty while it cannot be read."""
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5.0)
        ) as conn:
            found = conn.execute("SELECT id, state, error, notice FROM jobs").fetchall()
    except sqlite3.Error:
        return {}
    return {row[0]: (row[1], row[2], row[3]) for row in found}


def logged_problems(log_path: Path) -> list[str]:
    """ERROR and CRITICAL lines of the bot's log, with or without discord.py's colours
    (it colours a log file too when it thinks it runs in Docker)."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return []
    plain = (ANSI.sub("", line) for line in text.splitlines())
    return [line for line in plain if LEVEL.search(line)]
