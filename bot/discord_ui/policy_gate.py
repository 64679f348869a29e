"""The server's own policy at the door: every command and button that would spend asks
here first, before anything is stored, sent or counted.

In order: a blocked member is refused with the end of the block; a request beyond the
member's role tier (longer, or with sound) is refused with what the tier allows; a
prompt, negative prompt or shot with a blocked term is refused without saying which term
(the audit channel, read by moderators, says which, and quotes the text). Everything
is read from memory (`PolicyBook`), so refusing costs Discord's three seconds nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import discord

from bot.discord_ui.audit import AuditLog
from bot.discord_ui.permissions import Actor
from bot.i18n import Texts, english
from bot.policy.book import PolicyBook
from bot.policy.members import MemberBlock
from bot.policy.terms import Hit
from bot.policy.tiers import Allowance, BeyondTier, base_allowance, beyond
from bot.runcomfy.request import DEFAULT_DURATION, KlingRequest
from bot.server_settings import ServerSettings


def member_role_ids(interaction: discord.Interaction) -> frozenset[int]:
    """The member's roles, `@everyone` (whose id is the server's) included."""
    roles = Actor.from_interaction(interaction).role_ids
    return roles | {interaction.guild_id} if interaction.guild_id is not None else roles


def until_text(until: float) -> str:
    """A Discord timestamp: every reader sees it in their own language and time zone."""
    return f"<t:{int(until)}:f>"


def block_text(block: MemberBlock, tr: Texts | None = None) -> str:
    """Why a blocked member cannot make videos, and until when."""
    tr = tr or english()
    if block.automatic:
        return tr("policy.blocked_by_strikes", until=until_text(block.until))
    if block.reason:
        return tr("policy.blocked_because", until=until_text(block.until), reason=block.reason)
    return tr("policy.blocked", until=until_text(block.until))


def allowance_text(allowance: Allowance, tr: Texts | None = None) -> str:
    """What an allowance lets a member make, on one line."""
    tr = tr or english()
    daily = (
        tr("tier.daily", seconds=tr.integer(allowance.daily_seconds))
        if allowance.daily_seconds is not None
        else tr("tier.no_daily_limit")
    )
    sound = tr("tier.sound") if allowance.sound else tr("tier.no_sound")
    return tr(
        "tier.line",
        daily=daily,
        longest=allowance.longest_seconds,
        sound=sound,
        at_once=allowance.jobs_at_once,
    )


def beyond_text(kind: BeyondTier, request: KlingRequest, allowance: Allowance, tr: Texts) -> str:
    asked = tr(f"tier.beyond.{kind}", seconds=request.effective_duration)
    return tr("tier.refused", asked=asked, allowed=allowance_text(allowance, tr))


def request_texts(request: KlingRequest) -> list[str | None]:
    """What a blocked term is looked for in: prompt, negative prompt, then every shot."""
    shots = [shot.prompt for shot in request.multi_prompt or ()]
    return [request.prompt, request.negative_prompt, *shots]


def where_found(hit: Hit, tr: Texts) -> str:
    if hit.where == 0:
        return tr("audit.where.prompt")
    if hit.where == 1:
        return tr("audit.where.negative_prompt")
    return tr("audit.where.shot", shot=hit.where - 1)


class MemberReach:
    """Each member's latest command that started a video, while its token may be used (to
    tell them privately of a block their strikes brought). Kept in the order they expire,
    so letting expired ones go costs nothing per command; let go of as soon as the job it
    started is over (a later strike falls back to a direct message)."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._latest: OrderedDict[tuple[int | None, int], _Reachable] = OrderedDict()

    def remember(self, interaction: discord.Interaction, *, job_id: int, usable_for: float) -> None:
        now = self._now()
        self._drop_expired(now)
        key = (interaction.guild_id, interaction.user.id)
        self._latest.pop(key, None)
        self._latest[key] = _Reachable(interaction, job_id, now + usable_for)

    def latest(self, guild_id: int | None, user_id: int) -> discord.Interaction | None:
        self._drop_expired(self._now())
        kept = self._latest.get((guild_id, user_id))
        return None if kept is None else kept.interaction

    def release(self, *, job_id: int, guild_id: int | None, user_id: int) -> None:
        """The job is over: its command is no longer the way to the member."""
        key = (guild_id, user_id)
        kept = self._latest.get(key)
        if kept is not None and kept.job_id == job_id:
            del self._latest[key]

    def _drop_expired(self, now: float) -> None:
        while self._latest:
            key, kept = next(iter(self._latest.items()))
            if kept.until > now:
                return
            del self._latest[key]

    def __len__(self) -> int:
        return len(self._latest)


@dataclass(frozen=True, slots=True)
class _Reachable:
    interaction: discord.Interaction
    job_id: int
    until: float
    """When its token stops being usable (every entry lives as long, so the oldest goes
    first)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """What the member is told, and the blocked term found, if that was why."""

    text: str
    term: Hit | None = None


class PolicyGate:
    def __init__(
        self,
        book: PolicyBook,
        *,
        settings_for: Callable[[int | None], ServerSettings],
        audit: AuditLog,
        now: Callable[[], float],
    ) -> None:
        self.book = book
        self._settings_for = settings_for
        self._audit = audit
        self._now = now
        self.reach = MemberReach(now)
        """Members' latest commands, to tell them privately of a block by strikes."""

    def allowance(self, interaction: discord.Interaction) -> Allowance:
        """The member's allowance: their roles' tiers, else the server's default."""
        server = self._settings_for(interaction.guild_id)
        base = base_allowance(
            daily_seconds=server.daily_seconds_per_user, jobs_at_once=server.max_active_per_user
        )
        policy = self.book.get(interaction.guild_id)
        return policy.allowance(member_role_ids(interaction), base)

    def block_refusal(self, interaction: discord.Interaction, tr: Texts) -> str | None:
        """Why the member may not spend now (blocked, and until when), or None."""
        policy = self.book.get(interaction.guild_id)
        block = policy.block_of(interaction.user.id, self._now())
        return None if block is None else block_text(block, tr)

    def sound_for(self, interaction: discord.Interaction) -> bool | None:
        """No sound unless asked, when the member's tier allows none (None: no say)."""
        return None if self.allowance(interaction).sound else False

    def duration_for(self, interaction: discord.Interaction) -> int | None:
        """The tier's longest when it is shorter than RunComfy's default (None: no say)."""
        longest = self.allowance(interaction).longest_seconds
        return longest if longest < DEFAULT_DURATION else None

    def refusal(
        self, interaction: discord.Interaction, request: KlingRequest, tr: Texts
    ) -> Refusal | None:
        """Why this request may not be made, or None; from memory, so the member can be
        answered within Discord's three seconds (a blocked term is audited afterwards:
        `audit`)."""
        refused = self.block_refusal(interaction, tr)
        if refused is not None:
            return Refusal(refused)
        allowance = self.allowance(interaction)
        kind = beyond(request, allowance)
        if kind is not None:
            return Refusal(beyond_text(kind, request, allowance, tr))
        hit = self.book.get(interaction.guild_id).terms.find(request_texts(request))
        if hit is None:
            return None
        return Refusal(tr("policy.blocked_term"), hit)

    async def audit(
        self, interaction: discord.Interaction, request: KlingRequest, refusal: Refusal
    ) -> None:
        """The audit line of a request refused for a blocked term: who, which term, where,
        and the text it was found in (the audit channel is for moderators)."""
        guild_id = interaction.guild_id
        hit = refusal.term
        if guild_id is None or hit is None:
            return
        public = self._audit.texts_for(guild_id)
        line = public(
            "audit.blocked_term",
            member=f"<@{interaction.user.id}>",
            term=discord.utils.escape_markdown(hit.term),
            where=where_found(hit, public),
            channel=f"<#{interaction.channel_id}>",
            when=until_text(self._now()),
        )
        await self._audit.note(guild_id, line, request_texts(request)[hit.where])
