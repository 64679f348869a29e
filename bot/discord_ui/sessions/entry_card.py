"""An entry in the gallery: the finished video as a result message, with a Vote button.

`entry_message` is the one way an entry's message is drawn, from the job, what was
posted of its video (`EntryVideo`, kept in the store with the entry) and the vote count,
so the message is the same when it is first posted, when its count changes and when
voting closes, also after a restart. The video's own facts come from the delivery (the
file as posted); the count is the store's at the moment of drawing.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import discord

from bot.discord_ui.buttons import JobButton
from bot.discord_ui.permissions import JobAction
from bot.discord_ui.render import MESSAGE_LIMIT, delivery_text, quote, shorten
from bot.discord_ui.replies import AnsweringView, answer_failure
from bot.i18n import Texts
from bot.jobs.model import Job
from bot.media.probe import MediaFacts

ENTRY_PROMPT_CHARS = 300
THEME_IN_ENTRY_CHARS = 120
VOTE_ID = "session:vote:{entry_id}"


@dataclass(frozen=True, slots=True)
class EntryVideo:
    """What the posted message shows of the video: attached (and re-encoded from a larger
    original, if so) or a link, and why."""

    attached: bool
    facts: MediaFacts | None = None
    fitted_from: int | None = None
    link_reason: str | None = None
    """Why the video is a link, in the entry's language, as it was posted."""

    def encode(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def decode(cls, text: str) -> EntryVideo:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            attached=bool(raw.get("attached")),
            facts=_facts(raw.get("facts")),
            fitted_from=raw.get("fitted_from"),
            link_reason=raw.get("link_reason"),
        )


def _facts(raw: object) -> MediaFacts | None:
    """The video's facts as kept; None for a shape this version cannot read (the message
    is then drawn without them, never refused)."""
    if not isinstance(raw, dict):
        return None
    known = {name: raw[name] for name in MediaFacts.__dataclass_fields__ if name in raw}
    try:
        return MediaFacts(**known)
    except TypeError:
        return None


@dataclass(frozen=True, slots=True)
class EntryMessage:
    content: str
    view: discord.ui.View


class VoteHandler(Protocol):
    """Who answers a press: the bot's session desk."""

    async def vote_pressed(self, interaction: discord.Interaction, entry_id: int) -> None: ...


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

    async def callback(self, interaction: discord.Interaction) -> None:
        """discord.py only logs a dynamic item's failure, so it is answered here."""
        try:
            handler: VoteHandler | None = getattr(interaction.client, "session_desk", None)
            if handler is None:
                raise RuntimeError("the bot has no session desk yet")
            await handler.vote_pressed(interaction, self.entry_id)
        except Exception as error:
            await answer_failure(interaction, error, f"vote button of entry {self.entry_id}")


def entry_view(job: Job, *, votes: int, open: bool, tr: Texts) -> discord.ui.View:
    """Vote, and the result's own Re-roll and Delete."""
    view = AnsweringView(timeout=None)
    view.add_item(VoteButton(job.id, votes=votes, open=open, tr=tr))
    view.add_item(JobButton(JobAction.REROLL, job.id, tr=tr))
    view.add_item(JobButton(JobAction.DELETE, job.id, tr=tr))
    return view


def entry_message(
    job: Job, video: EntryVideo, *, theme: str, votes: int, open: bool, tr: Texts
) -> EntryMessage:
    """The entry as posted in the gallery: the requester (mentioned, so notified), the
    session, the prompt, the video's facts (or its link), and the buttons; always within
    Discord's 2,000 characters, whatever the theme, prompt and link."""
    about = delivery_text(
        job,
        attached=video.attached,
        link_reason=video.link_reason,
        facts=video.facts,
        fitted_from=video.fitted_from,
        tr=tr,
    )
    header = tr(
        "entry.header",
        theme=discord.utils.escape_markdown(shorten(" ".join(theme.split()), THEME_IN_ENTRY_CHARS)),
    )
    prompt = quote(job.request.prompt, ENTRY_PROMPT_CHARS)
    content = "\n".join([about, header, prompt])
    if len(content) > MESSAGE_LIMIT:
        content = about
    return EntryMessage(content, entry_view(job, votes=votes, open=open, tr=tr))
