"""What moderators do to members: block and unblock them, and look at or clear their
strikes (`/video block`, `/video unblock`, `/video strikes`).

Moderators are who the bot already trusts with other members' jobs (`permissions.py`:
Manage Messages where they type, or a moderator role). Every answer is private; every
change is written to the audit channel. A block can cancel the member's videos that have
not started generating, across every process (the jobs are found in the store, and a
job another process holds is cancelled by that process).
"""

from __future__ import annotations

from collections.abc import Callable

import discord

from bot.discord_ui.audit import AuditLog
from bot.discord_ui.panels import fit_lines
from bot.discord_ui.permissions import Actor, is_moderator
from bot.discord_ui.policy_gate import PolicyGate, until_text
from bot.discord_ui.replies import reply
from bot.i18n import Texts, texts
from bot.jobs.model import JobState
from bot.jobs.tracker import CancelOutcomeKind, JobTracker
from bot.policy.members import MemberBlock, Strike
from bot.server_settings import ServerSettings

MODERATORS_ONLY = "refusal.moderators"
CANCELLABLE = (JobState.NEW, JobState.WAITING, JobState.SUBMITTING, JobState.QUEUED)
STRIKES_SHOWN = 20
"""Strikes listed by `/video strikes` (more are counted, not listed)."""
STRIKE_LIST_MAX_CHARS = 1700
"""The listed strikes: room for the line above them within Discord's 2,000."""
DAY = 24 * 60 * 60


def strike_line(strike: Strike, tr: Texts) -> str:
    reason = strike.reason or tr("moderation.no_reason")
    return tr(
        "moderation.strike_line",
        job=strike.job_id,
        when=f"<t:{int(strike.at)}:R>",
        reason=discord.utils.escape_markdown(reason),
    )


class ModerationDesk:
    def __init__(
        self,
        tracker: JobTracker,
        gate: PolicyGate,
        *,
        audit: AuditLog,
        settings_for: Callable[[int | None], ServerSettings],
        now: Callable[[], float],
    ) -> None:
        self.tracker = tracker
        self._book = gate.book
        self._audit = audit
        self._settings_for = settings_for
        self._now = now

    def _refusal(self, interaction: discord.Interaction) -> str | None:
        roles = self._settings_for(interaction.guild_id).moderator_role_ids
        if interaction.guild_id is not None and is_moderator(
            Actor.from_interaction(interaction), roles
        ):
            return None
        return texts(interaction.locale)(MODERATORS_ONLY)

    async def _start(self, interaction: discord.Interaction) -> int | None:
        """The server, once the member is known to moderate it and the answer is deferred."""
        refusal = self._refusal(interaction)
        if refusal is not None:
            await reply(interaction, refusal)
            return None
        await interaction.response.defer(ephemeral=True, thinking=True)
        return interaction.guild_id

    async def block(
        self,
        interaction: discord.Interaction,
        member: discord.abc.User,
        *,
        days: int,
        reason: str | None,
        cancel_waiting: bool,
    ) -> None:
        guild_id = await self._start(interaction)
        if guild_id is None:
            return
        tr = texts(interaction.locale)
        now = self._now()
        reason = " ".join(reason.split()) if reason else None
        block = MemberBlock(member.id, now + days * DAY, reason, interaction.user.id, now)
        await self._book.block(guild_id, block)
        answer = tr("moderation.blocked", member=member.mention, until=until_text(block.until))
        public = self._audit.texts_for(guild_id)
        line = public(
            "audit.member_blocked",
            actor=interaction.user.mention,
            member=member.mention,
            until=until_text(block.until),
        )
        if cancel_waiting:
            cancelled = await self._cancel_waiting(guild_id, member.id, interaction.user.id)
            answer += " " + tr("moderation.cancelled", count=cancelled)
            line += " " + public("moderation.cancelled", count=cancelled)
        await self._audit.note(guild_id, line, reason)
        await reply(interaction, answer)

    async def _cancel_waiting(self, guild_id: int, user_id: int, by: int) -> int:
        """Cancel the member's jobs that have not started generating; how many were."""
        jobs = await self.tracker.recent(
            requester_id=user_id, guild_id=guild_id, states=CANCELLABLE, limit=None
        )
        cancelled = 0
        for job in jobs:
            report = await self.tracker.cancel(job.id, by=by)
            cancelled += report.outcome is CancelOutcomeKind.CANCELLED
        return cancelled

    async def unblock(self, interaction: discord.Interaction, member: discord.abc.User) -> None:
        guild_id = await self._start(interaction)
        if guild_id is None:
            return
        tr = texts(interaction.locale)
        lifted = await self._book.unblock(guild_id, member.id)
        if lifted is None:
            await reply(interaction, tr("moderation.not_blocked", member=member.mention))
            return
        public = self._audit.texts_for(guild_id)
        line = public(
            "audit.member_unblocked", actor=interaction.user.mention, member=member.mention
        )
        await self._audit.note(guild_id, line)
        await reply(interaction, tr("moderation.unblocked", member=member.mention))

    async def strikes(
        self, interaction: discord.Interaction, member: discord.abc.User, *, clear: bool
    ) -> None:
        guild_id = await self._start(interaction)
        if guild_id is None:
            return
        tr = texts(interaction.locale)
        if clear:
            cleared = await self._book.clear_strikes(guild_id, member.id)
            public = self._audit.texts_for(guild_id)
            line = public(
                "audit.strikes_cleared",
                actor=interaction.user.mention,
                member=member.mention,
                count=cleared,
            )
            await self._audit.note(guild_id, line)
            await reply(interaction, tr("moderation.strikes_cleared", member=member.mention))
            return
        strikes = await self._book.strikes(guild_id, member.id)
        server = self._settings_for(guild_id)
        head = tr(
            "moderation.strikes",
            member=member.mention,
            count=len(strikes),
            threshold=server.strikes_to_block,
        )
        lines = [strike_line(strike, tr) for strike in strikes[-STRIKES_SHOWN:]]
        await reply(interaction, head + "\n" + fit_lines(lines, STRIKE_LIST_MAX_CHARS, tr))
