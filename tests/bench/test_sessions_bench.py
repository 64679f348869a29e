"""The prompt-session benchmark at smoke size, through the same code as
`python -m bench.sessions`, so it cannot rot. The checks are for sane numbers."""

from __future__ import annotations

from pathlib import Path

from bench.sessions import SMOKE, check_recap, report, run_sessions, vote_plan


async def test_a_small_session(tmp_path: Path) -> None:
    result = await run_sessions(SMOKE, tmp_path)
    print(report(result, SMOKE))
    assert result.entries_posted == result.entries == SMOKE.members * SMOKE.entries_per_member
    assert result.answered == result.counted == result.votes
    assert 0 < result.ack.p50 <= result.ack.p99 < 3.0
    assert result.thread_messages == 0, "votes post nothing"
    assert 0 < result.thread_edits <= result.votes
    assert result.recap_correct, result.recap_problem
    assert result.errors_logged == 0


def test_the_vote_plan_never_votes_for_ones_own_entry() -> None:
    entries = {entry: entry % SMOKE.members for entry in range(1, 13)}
    plan = vote_plan(entries, SMOKE)
    assert len(plan) == SMOKE.members * SMOKE.votes_per_member
    assert all(entries[entry] != member for member, entry in plan)
    assert len(set(plan)) == len(plan), "once each"


def test_a_wrong_recap_is_noticed() -> None:
    plan = [(0, 1), (1, 1), (0, 2)]
    owners = {1: 100, 2: 200}
    right = "🏆 Winner: <@100> (2 votes)\n2 entries · 2 voters · total cost $1.26"
    assert check_recap(right, plan, owners) == ""
    assert check_recap("no recap at all", plan, owners) == "no winners line"
    assert "winners" in check_recap(right.replace("<@100>", "<@200>"), plan, owners)
    assert "counts" in check_recap(right.replace("2 voters", "3 voters"), plan, owners)
