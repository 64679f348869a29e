"""Role tiers: what a member may make, by their roles.

A tier belongs to one role and says four things: the seconds of video a member may make
per day, the longest video, whether sound is allowed, and how many of the member's jobs
may run at RunComfy at once. A member with no tier role gets the server's default
(`base_allowance`: the server's daily quota and per-member limit, any length, sound).

A member with several tier roles gets, for each of the four, the most generous any of
their roles gives, as Discord itself combines roles' permissions: a member never has
less than one of their roles promises (a supporter who is also a sound-role member gets
the supporter's seconds and the sound). Discord's `@everyone` role is a role like any
other here, so a tier on it is everyone's floor instead of the server's default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.runcomfy.request import DURATION_MAX, DURATION_MIN, KlingRequest

DAILY_SECONDS_MAX = 86_400
JOBS_AT_ONCE_MAX = 100
TIERS_PER_SERVER = 100
"""Roles with a tier on one server: shown paged, far below Discord's 250 roles."""


@dataclass(frozen=True, slots=True)
class RoleTier:
    role_id: int
    daily_seconds: int | None
    """None: no daily limit."""
    longest_seconds: int
    sound: bool
    jobs_at_once: int

    def __post_init__(self) -> None:
        if self.daily_seconds is not None and not 0 < self.daily_seconds <= DAILY_SECONDS_MAX:
            raise ValueError(f"daily seconds {self.daily_seconds}")
        if not DURATION_MIN <= self.longest_seconds <= DURATION_MAX:
            raise ValueError(f"longest {self.longest_seconds}")
        if not 1 <= self.jobs_at_once <= JOBS_AT_ONCE_MAX:
            raise ValueError(f"jobs at once {self.jobs_at_once}")

    @property
    def allowance(self) -> Allowance:
        """What this tier alone allows."""
        return Allowance(self.daily_seconds, self.longest_seconds, self.sound, self.jobs_at_once)


@dataclass(frozen=True, slots=True)
class Allowance:
    """What one member may make; `role_ids` are the roles whose tiers gave it (none: the
    server's default)."""

    daily_seconds: int | None
    longest_seconds: int
    sound: bool
    jobs_at_once: int
    role_ids: tuple[int, ...] = ()

    @property
    def from_tiers(self) -> bool:
        return bool(self.role_ids)


def base_allowance(*, daily_seconds: int | None, jobs_at_once: int) -> Allowance:
    """The server's default: its daily quota and per-member limit, any length, sound."""
    return Allowance(daily_seconds, DURATION_MAX, True, jobs_at_once)


def _more_seconds(first: int | None, second: int | None) -> int | None:
    if first is None or second is None:
        return None
    return max(first, second)


def allowance_for(
    role_ids: Iterable[int], tiers: Mapping[int, RoleTier], base: Allowance
) -> Allowance:
    """The member's allowance: the most generous of each among their roles' tiers, or
    `base` when none of their roles has one."""
    mine = sorted((tiers[role] for role in set(role_ids) if role in tiers), key=_by_role)
    if not mine:
        return base
    first, *rest = mine
    allowance = first.allowance
    for tier in rest:
        allowance = Allowance(
            _more_seconds(allowance.daily_seconds, tier.daily_seconds),
            max(allowance.longest_seconds, tier.longest_seconds),
            allowance.sound or tier.sound,
            max(allowance.jobs_at_once, tier.jobs_at_once),
        )
    return Allowance(
        allowance.daily_seconds,
        allowance.longest_seconds,
        allowance.sound,
        allowance.jobs_at_once,
        tuple(tier.role_id for tier in mine),
    )


def _by_role(tier: RoleTier) -> int:
    return tier.role_id


DAILY_SECONDS_MIN = DURATION_MIN
"""A daily allowance below one shortest video would allow nothing."""


def changed_tier(
    current: RoleTier | None,
    role_id: int,
    base: Allowance,
    *,
    daily_seconds: int | None = None,
    longest: int | None = None,
    sound: bool | None = None,
    at_once: int | None = None,
) -> RoleTier | None:
    """A role's tier after a change: what was given, else what the role's tier had, else
    the server's default (`base`). A daily allowance of 0 means no limit; None when the
    daily seconds are out of range (the other values are ranged by the command)."""
    start = current or RoleTier(
        role_id, base.daily_seconds, base.longest_seconds, base.sound, base.jobs_at_once
    )
    daily = start.daily_seconds
    if daily_seconds is not None:
        if daily_seconds != 0 and not DAILY_SECONDS_MIN <= daily_seconds <= DAILY_SECONDS_MAX:
            return None
        daily = daily_seconds or None
    return RoleTier(
        role_id,
        daily,
        longest if longest is not None else start.longest_seconds,
        sound if sound is not None else start.sound,
        at_once if at_once is not None else start.jobs_at_once,
    )


class BeyondTier(StrEnum):
    """What a request asks for beyond the member's tier; worded as `tier.beyond.<kind>`."""

    DURATION = "duration"
    SOUND = "sound"


def beyond(request: KlingRequest, allowance: Allowance) -> BeyondTier | None:
    """What of `request` the allowance does not cover (the daily seconds and the jobs at
    once are checked by the tracker, with the member's usage), or None."""
    if request.effective_duration > allowance.longest_seconds:
        return BeyondTier.DURATION
    if request.effective_sound and not allowance.sound:
        return BeyondTier.SOUND
    return None
