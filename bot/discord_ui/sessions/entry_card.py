"""An entry in the gallery: the job's result card with a Vote button.

`entry_card` is the one way an entry's message is drawn, from the job, how its video is
shown (`Shown`, kept in the store with the entry) and the vote count, so the message is
the same when it is first posted, when its count changes and when voting closes, also
after a restart. It is `video_card` (the prompt, the video inline, Re-roll, Edit &
re-roll and Delete) under a heading that names the session, with the Vote button after
the job's own buttons.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any, Protocol

import discord

from bot.discord_ui.card_text import Shown, ready_heading
from bot.discord_ui.render import shorten
from bot.discord_ui.replies import answer_failure, taken
from bot.discord_ui.result_card import video_card
from bot.i18n import Texts
from bot.jobs.model import Job
from bot.media.probe import MediaFacts

THEME_IN_ENTRY_CHARS = 120
VOTE_ID = "session:vote:{entry_id}"


def encode_shown(shown: Shown) -> str:
    """How an entry's video is shown, as the store keeps it."""
    return json.dumps(asdict(shown), ensure_ascii=False)


def decode_shown(text: str) -> Shown:
    raw: dict[str, Any] = json.loads(text)
    return Shown(
        facts=_facts(raw.get("facts")),
        attached=bool(raw.get("attached", True)),
        fitted_from=raw.get("fitted_from"),
        link_reason=raw.get("link_reason"),
    )


def _facts(raw: object) -> MediaFacts | None:
    """The video's facts as kept; None for a shape this version cannot read (the card
    is then drawn without them, never refused)."""
    if not isinstance(raw, dict):
        return None
    known = {name: raw[name] for name in MediaFacts.__dataclass_fields__ if name in raw}
    try:
        return MediaFacts(**known)
    except TypeError:
        return None


class VoteHandler(Protocol):
    """Who answers a press: the bot's session desk."""

    async def vote_pressed(self, interaction: discord.Interaction, entry_id: int) -> None: ...


class VoteSide(Protocol):
    """Where the bot keeps its session desk (`bot.session_side`)."""

    @property
    def desk(self) -> VoteHandler: ...


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"session:vote:(?P<entry_id>[0-9]{1,20})",
):
    """Vote (press again to take it back), showing the entry's count; it keeps working
    after a restart, since the entry's id is in its custom id."""

    def __init__(
        self, entry_id: int, *, votes: int = 0, open: bool = True, tr: Texts | None = None
    ) -> None:
        self.entry_id = entry_id
        label = tr.plural("entry.vote_button", votes) if tr is not None else str(votes)
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                emoji="🗳️",
                disabled=not open,
                custom_id=VOTE_ID.format(entry_id=entry_id),
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> VoteButton:
        return cls(int(match["entry_id"]))

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """While the bot stops a press is answered "restarting"; one taken is waited for."""
        return await taken(interaction)

    async def callback(self, interaction: discord.Interaction) -> None:
        """discord.py only logs a dynamic item's failure, so it is answered here."""
        try:
            side: VoteSide | None = getattr(interaction.client, "session_side", None)
            if side is None:
                raise RuntimeError("the bot has no session desk yet")
            await side.desk.vote_pressed(interaction, self.entry_id)
        except Exception as error:
            await answer_failure(interaction, error, f"vote button of entry {self.entry_id}")


def entry_heading(job: Job, theme: str, tr: Texts) -> str:
    """The card's heading: the requester (mentioned, so notified) and the job's marker,
    then the session."""
    shown_theme = discord.utils.escape_markdown(
        shorten(" ".join(theme.split()), THEME_IN_ENTRY_CHARS)
    )
    return f"{ready_heading(job, tr)}\n{tr('entry.header', theme=shown_theme)}"


def entry_card(
    job: Job, shown: Shown, *, theme: str, votes: int, open: bool, tr: Texts
) -> discord.ui.LayoutView:
    """The entry as posted in the gallery (attach the video as `video_filename(job)` when
    `shown.attached`); within Discord's limits whatever the theme, prompt and link."""
    vote = VoteButton(job.id, votes=votes, open=open, tr=tr)
    return video_card(job, shown, tr=tr, extra=[vote], heading=entry_heading(job, theme, tr))
