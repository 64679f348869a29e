"""A press of a Vote button: acknowledged at once, judged by the session's rule inside one
database transaction, answered privately in the member's language, and the entry's count
shown soon after (coalesced with other presses, see `DiscordHerald.votes_changed`).

A vote is never lost without a word: while the bot stops, a press is answered that it is
restarting (`replies.taken`), and the presses already being counted are waited for
before the database closes; when the database refuses, the member is asked to press
again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from bot.discord_ui.job_lookup import reader
from bot.discord_ui.replies import reply
from bot.discord_ui.sessions.herald import DiscordHerald
from bot.i18n import Texts
from bot.jobs.ports import StoreError
from bot.server_settings import ServerSettings
from bot.sessions.rules import VoteOutcome, VoteResult
from bot.sessions.service import Sessions

log = logging.getLogger(__name__)

ANSWERS = {
    VoteOutcome.NOT_AN_ENTRY: "vote.not_an_entry",
    VoteOutcome.VOTING_OVER: "vote.voting_over",
    VoteOutcome.OWN_ENTRY: "vote.own_entry",
}
"""The catalog key of each refusal that needs no numbers."""


def vote_answer(result: VoteResult, tr: Texts) -> str:
    """What the member reads after pressing: the outcome, and their votes used."""
    match result.outcome:
        case VoteOutcome.COUNTED:
            return tr("vote.counted", entry=result.entry_id, used=result.used, limit=result.limit)
        case VoteOutcome.WITHDRAWN:
            return tr("vote.withdrawn", entry=result.entry_id, used=result.used, limit=result.limit)
        case VoteOutcome.NO_VOTES_LEFT:
            return tr.plural("vote.no_votes_left", result.limit)
        case _:
            return tr(ANSWERS[result.outcome])


class Ballot:
    def __init__(
        self,
        sessions: Sessions,
        herald: DiscordHerald,
        settings_for: Callable[[int | None], ServerSettings],
    ) -> None:
        self._sessions = sessions
        self._herald = herald
        self._settings_for = settings_for

    async def pressed(self, interaction: discord.Interaction, entry_id: int) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = reader(interaction)
        user = interaction.user
        if not isinstance(user, discord.Member):
            await reply(interaction, tr("vote.members_only"))
            return
        limit = self._settings_for(interaction.guild_id).votes_per_member
        try:
            result = await self._sessions.vote(entry_id, user.id, limit=limit)
        except (StoreError, RuntimeError) as error:
            log.warning("entry %d: a vote could not be counted (%s)", entry_id, error)
            await reply(interaction, tr("vote.try_again"))
            return
        await reply(interaction, vote_answer(result, tr))
        message = interaction.message
        if result.outcome.changed and message is not None and interaction.channel_id is not None:
            self._herald.votes_changed(entry_id, interaction.channel_id, message.id)
