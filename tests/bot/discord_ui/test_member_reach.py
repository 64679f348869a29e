"""Each member's latest command, kept while its token may be used to tell them of a block:
bounded in time, let go of with its job, and never a scan of every member per command."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.discord_ui.policy_gate import MemberReach


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def command(user_id: int, guild_id: int = 1) -> Any:
    return SimpleNamespace(guild_id=guild_id, user=SimpleNamespace(id=user_id))


def test_the_latest_command_of_a_member_is_kept_while_its_token_lives() -> None:
    clock = Clock()
    reach = MemberReach(clock)
    first, second = command(7), command(7)
    reach.remember(first, job_id=1, usable_for=60)
    reach.remember(second, job_id=2, usable_for=60)
    assert reach.latest(1, 7) is second
    assert reach.latest(2, 7) is None, "another server's member is another member"
    clock.now += 61
    assert reach.latest(1, 7) is None


def test_expired_commands_go_without_waiting_for_that_member() -> None:
    clock = Clock()
    reach = MemberReach(clock)
    for user_id in range(100):
        reach.remember(command(user_id), job_id=user_id, usable_for=60)
    clock.now += 61
    reach.remember(command(500), job_id=500, usable_for=60)
    assert len(reach) == 1


def test_a_member_whose_latest_job_is_over_is_let_go() -> None:
    clock = Clock()
    reach = MemberReach(clock)
    reach.remember(command(7), job_id=1, usable_for=60)
    reach.remember(command(7), job_id=2, usable_for=60)
    reach.release(job_id=1, guild_id=1, user_id=7)
    assert reach.latest(1, 7) is not None, "an older job's end keeps the newer command"
    reach.release(job_id=2, guild_id=1, user_id=7)
    assert reach.latest(1, 7) is None
    assert len(reach) == 0
