"""Which state changes make the tracker rescan its waiting line."""

from __future__ import annotations

import pytest

from bot.jobs.model import JobState
from bot.jobs.release import moves_the_line


@pytest.mark.parametrize(
    ("before", "after", "moves"),
    [
        (JobState.NEW, JobState.WAITING, True),
        (JobState.WAITING, JobState.SUBMITTING, True),
        (JobState.WAITING, JobState.CANCELLED, True),
        (JobState.SUBMITTING, JobState.WAITING, True),
        (JobState.SUBMITTING, JobState.QUEUED, False),
        (JobState.QUEUED, JobState.RUNNING, False),
        (JobState.RUNNING, JobState.COMPLETED, True),
        (JobState.QUEUED, JobState.CANCELLED, True),
        (JobState.NEW, JobState.CANCELLED, False),
        (JobState.COMPLETED, JobState.DELIVERED, False),
        (JobState.RUNNING, JobState.RUNNING, False),
    ],
)
def test_only_joining_or_leaving_the_line_or_a_slot_moves_the_line(before, after, moves) -> None:
    assert moves_the_line(before, after) is moves
