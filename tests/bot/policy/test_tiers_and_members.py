"""Role tiers (the most generous of each allowance among a member's roles), what a request
asks beyond a tier, a tier changed by the command, and when a failure is a strike."""

from __future__ import annotations

import pytest

from bot.jobs.model import Failure
from bot.policy.members import MemberBlock, StrikeRule, is_content_failure
from bot.policy.tiers import (
    BeyondTier,
    RoleTier,
    allowance_for,
    base_allowance,
    beyond,
    changed_tier,
)
from bot.runcomfy.request import KlingRequest

BASE = base_allowance(daily_seconds=60, jobs_at_once=2)
SUPPORTER = RoleTier(1, daily_seconds=300, longest_seconds=10, sound=False, jobs_at_once=3)
SOUND = RoleTier(2, daily_seconds=30, longest_seconds=5, sound=True, jobs_at_once=1)
UNLIMITED = RoleTier(3, daily_seconds=None, longest_seconds=3, sound=False, jobs_at_once=1)
TIERS = {tier.role_id: tier for tier in (SUPPORTER, SOUND, UNLIMITED)}


def test_a_member_without_a_tier_role_gets_the_servers_default() -> None:
    assert allowance_for({99, 100}, TIERS, BASE) == BASE
    assert not BASE.from_tiers
    assert (BASE.longest_seconds, BASE.sound) == (15, True)


def test_each_allowance_is_the_most_generous_among_the_roles() -> None:
    both = allowance_for({1, 2, 99}, TIERS, BASE)
    assert (both.daily_seconds, both.longest_seconds, both.sound, both.jobs_at_once) == (
        300,
        10,
        True,
        3,
    )
    assert both.role_ids == (1, 2)
    assert allowance_for({1, 3}, TIERS, BASE).daily_seconds is None, "no limit beats any"


def test_one_tier_applies_as_it_is_even_when_stricter_than_the_default() -> None:
    only = allowance_for({2}, TIERS, BASE)
    assert (only.daily_seconds, only.longest_seconds, only.jobs_at_once) == (30, 5, 1)


def test_a_request_beyond_the_tier_is_named() -> None:
    supporter = allowance_for({1}, TIERS, BASE)
    assert beyond(KlingRequest(prompt="a", duration=10, sound=False), supporter) is None
    assert beyond(KlingRequest(prompt="a", duration=12, sound=False), supporter) is (
        BeyondTier.DURATION
    )
    assert beyond(KlingRequest(prompt="a", duration=5), supporter) is BeyondTier.SOUND, (
        "RunComfy's default is sound"
    )


def test_a_changed_tier_keeps_what_was_not_given() -> None:
    fresh = changed_tier(None, 7, BASE, longest=8)
    assert fresh == RoleTier(7, 60, 8, True, 2), "the server's default fills the rest"
    again = changed_tier(fresh, 7, BASE, daily_seconds=0, sound=False)
    assert again == RoleTier(7, None, 8, False, 2), "0 seconds a day: no limit"
    assert changed_tier(fresh, 7, BASE, daily_seconds=2) is None


def test_a_tier_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="daily seconds 0"):
        RoleTier(1, daily_seconds=0, longest_seconds=5, sound=True, jobs_at_once=1)
    with pytest.raises(ValueError, match="longest 16"):
        RoleTier(1, daily_seconds=10, longest_seconds=16, sound=True, jobs_at_once=1)


@pytest.mark.parametrize(
    ("failure", "detail", "strike"),
    [
        (Failure.GENERATION_FAILED, "Content moderation: the output was flagged", True),
        (Failure.GENERATION_FAILED, "NSFW content detected", True),
        (Failure.INPUT_REFUSED, "The prompt violates our usage policies", True),
        (Failure.GENERATION_FAILED, "the model could not render this prompt", False),
        (Failure.GENERATION_FAILED, None, False),
        (Failure.INPUT_REFUSED, "value violates constraint duration", False),
        (Failure.RUNCOMFY_DOWN, "unsafe", False),
        (Failure.NO_VIDEO, "flagged", False),
        (None, "flagged", False),
    ],
)
def test_only_a_failure_in_content_words_is_a_strike(
    failure: Failure | None, detail: str | None, strike: bool
) -> None:
    assert is_content_failure(failure, detail) is strike


def test_the_strike_rule() -> None:
    rule = StrikeRule(threshold=3, block_hours=24)
    assert not rule.blocks(2)
    assert rule.blocks(3)
    assert rule.block_until(100.0) == 100.0 + 24 * 3600
    assert not StrikeRule(threshold=0).blocks(50), "0 turns strikes off"


def test_a_block_holds_until_its_end() -> None:
    block = MemberBlock(5, until=200.0, blocked_by=None)
    assert block.automatic
    assert block.holds(199.9)
    assert not block.holds(200.0)
