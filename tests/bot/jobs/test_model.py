"""The job state machine: every allowed move works, every other one is refused."""

from __future__ import annotations

import pytest

from bot.jobs.model import ALLOWED_TRANSITIONS, FINAL_STATES, InvalidTransition, JobState
from tests.bot.jobs.factories import make_job


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s, targets in ALLOWED_TRANSITIONS.items() for t in targets],
)
def test_allowed_transition_records_time(source: JobState, target: JobState) -> None:
    job = make_job(state=source, at=1.0)
    moved = job.transition(target, 5.0)
    assert moved.state is target
    assert moved.entered(target) == 5.0
    assert moved.entered(source) == 1.0
    assert moved.updated_at == 5.0
    assert job.state is source, "jobs are immutable"


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s in JobState for t in JobState if t not in ALLOWED_TRANSITIONS[s]],
)
def test_other_transitions_are_refused(source: JobState, target: JobState) -> None:
    with pytest.raises(InvalidTransition, match=f"{source.value} → {target.value}"):
        make_job(state=source).transition(target, 2.0)


def test_final_states_have_no_way_out() -> None:
    for state in FINAL_STATES:
        assert not ALLOWED_TRANSITIONS[state]
    assert JobState.COMPLETED not in FINAL_STATES, "a completed job still has to be delivered"


def test_a_resubmitted_job_never_skips_the_line() -> None:
    assert JobState.SUBMITTING not in ALLOWED_TRANSITIONS[JobState.SUBMISSION_UNKNOWN]
    assert ALLOWED_TRANSITIONS[JobState.COMPLETED] == {
        JobState.DELIVERED,
        JobState.DELIVERY_FAILED,
    }


def test_queue_position_is_cleared_when_leaving_the_queue() -> None:
    job = make_job(state=JobState.QUEUED, queue_position=4)
    assert job.transition(JobState.RUNNING, 3.0).queue_position is None


def test_update_cannot_change_the_state() -> None:
    with pytest.raises(ValueError, match="transition"):
        make_job().update(2.0, state=JobState.FAILED)


def test_cancellable_states() -> None:
    cancellable = {state for state in JobState if state.is_cancellable}
    assert cancellable == {JobState.NEW, JobState.WAITING, JobState.SUBMITTING, JobState.QUEUED}
