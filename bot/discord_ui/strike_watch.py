"""Strikes: a job RunComfy refused or failed for its content counts against its member
(`bot.policy.members` says when, conservatively), and enough of them block the member.

The watch is told of every recorded change of a job (a `JobObserver`) and acts on the
change that ends a job as failed, in whichever process holds it; the strike is counted
once per job by the database. A member blocked this way is told privately: by a private
follow-up on their latest command while its token still lives (they are most likely
still there, and Discord shows it only to them), else by a direct message, which they
may not accept (then only the audit channel knows, and their next command is refused
with the end date anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord

from bot.discord_ui.audit import AuditLog
from bot.discord_ui.policy_gate import MemberReach, until_text
from bot.i18n import Texts, texts
from bot.jobs.model import Job, JobState, NoticeState, is_open
from bot.jobs.ports import StoreError
from bot.policy.book import AutoBlock, PolicyBook
from bot.policy.members import Strike, StrikeRule, is_content_failure
from bot.server_settings import ServerSettings
from bot.wording import outside_words

log = logging.getLogger(__name__)

STRIKE_REASON_MAX_CHARS = 200


class StrikeWatch:
    """Counts strikes as jobs fail for their content; blocks, tells and audits."""

    def __init__(
        self,
        client: discord.Client,
        book: PolicyBook,
        *,
        reach: MemberReach,
        audit: AuditLog,
        settings_for: Callable[[int | None], ServerSettings],
        now: Callable[[], float],
    ) -> None:
        self._client = client
        self._book = book
        self._reach = reach
        self._audit = audit
        self._settings_for = settings_for
        self._now = now
        self._tasks: set[asyncio.Task[None]] = set()
        self._striking: set[int] = set()
        """Jobs whose strike is being counted (their command may still tell the member)."""

    def job_changed(self, job: Job) -> None:
        """The change that ends a job as failed (its notice just became due) is the one
        that strikes; once a job is over, its command is let go of."""
        if (
            job.state is JobState.FAILED
            and job.notice is NoticeState.PENDING
            and job.guild_id is not None
            and is_content_failure(job.failure, job.failure_detail)
        ):
            self._striking.add(job.id)
            task = asyncio.create_task(self._strike(job, job.guild_id), name=f"strike-{job.id}")
            self._tasks.add(task)
            task.add_done_callback(lambda done: self._struck(done, job))
        elif not is_open(job) and job.id not in self._striking:
            self._release(job)

    def _struck(self, task: asyncio.Task[None], job: Job) -> None:
        self._tasks.discard(task)
        self._striking.discard(job.id)
        self._release(job)

    def _release(self, job: Job) -> None:
        self._reach.release(job_id=job.id, guild_id=job.guild_id, user_id=job.requester_id)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _strike(self, job: Job, guild_id: int) -> None:
        server = self._settings_for(guild_id)
        rule = StrikeRule(server.strikes_to_block, server.strike_block_hours)
        reason = outside_words(job.failure_detail, STRIKE_REASON_MAX_CHARS)
        strike = Strike(job.requester_id, job.id, self._now(), reason)
        try:
            blocked = await self._book.strike(guild_id, strike, rule)
        except StoreError as error:
            log.warning("job %d: could not count its strike: %s", job.id, error)
            return
        if blocked is None:
            return
        log.info("member %d blocked on server %d after strikes", job.requester_id, guild_id)
        await self._tell(job, guild_id, blocked)
        public = self._audit.texts_for(guild_id)
        line = public(
            "audit.auto_blocked",
            member=f"<@{job.requester_id}>",
            count=blocked.strikes,
            job=job.id,
            until=until_text(blocked.block.until),
        )
        await self._audit.note(guild_id, line, job.request.prompt)

    async def _tell(self, job: Job, guild_id: int, blocked: AutoBlock) -> None:
        interaction = self._reach.latest(guild_id, job.requester_id)
        tr: Texts = texts(interaction.locale if interaction is not None else job.locale)
        text = tr(
            "policy.auto_blocked_notice",
            count=blocked.strikes,
            until=until_text(blocked.block.until),
        )
        if interaction is not None:
            try:
                await interaction.followup.send(text, ephemeral=True)
                return
            except discord.HTTPException as error:
                log.info("could not follow up on member %d: %s", job.requester_id, error)
        try:
            channel = await self._client.create_dm(discord.Object(job.requester_id))
            await channel.send(text)
        except discord.HTTPException as error:
            log.info("could not tell member %d of their block: %s", job.requester_id, error)
