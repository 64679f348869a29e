"""What a member reads after pressing Cancel, including when it races RunComfy."""

from __future__ import annotations

from bot.discord_ui.job_desk import cancel_reply
from bot.jobs.model import JobState
from bot.jobs.tracker import CancelOutcomeKind, CancelReport
from tests.bot.jobs.factories import make_job


def test_a_cancel_that_races_completion_says_the_video_just_finished() -> None:
    still_queued_here = make_job(7, state=JobState.QUEUED)
    text = cancel_reply(7, CancelReport(CancelOutcomeKind.ALREADY_FINISHED, still_queued_here))
    assert "just finished" in text
    assert "queued" not in text.lower()


def test_a_job_that_ended_long_ago_names_how_it_ended() -> None:
    delivered = make_job(7, state=JobState.DELIVERED)
    text = cancel_reply(7, CancelReport(CancelOutcomeKind.ALREADY_FINISHED, delivered))
    assert text == "Video #7 is already delivered, so there is nothing to cancel."
