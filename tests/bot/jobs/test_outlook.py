"""The tracker's estimates: learned from what it records whichever poll schedule runs,
waiting for the jobs ahead in the bot's own line, and a reminder from the scheduler's
heap when a shown estimate passes."""

from __future__ import annotations

import pytest

from bot.jobs.eta import PRIOR_POSTING, Basis
from bot.jobs.line import ServerLimits
from bot.jobs.model import Job, JobState
from bot.jobs.polling import RunKind
from testkit.runcomfy import JobOutcome
from testkit.waiting import eventually
from tests.bot.jobs.rig import make_settings


async def test_a_tracker_on_fixed_polling_learns_runs_waits_and_postings(make_rig) -> None:
    rig = await make_rig(generation_time=60.0)
    tracker = await rig.start()
    first = await rig.submit()
    await rig.wait_for_state(first.id, JobState.RUNNING)
    running = tracker.get(first.id)
    assert running is not None
    cold = tracker.estimate(running)
    assert cold is not None
    assert cold.basis is Basis.PRIOR

    await rig.wait_for_state(first.id, JobState.DELIVERED)
    model = tracker.eta_model
    expected = model.runs.expect(RunKind(5))
    assert expected is not None
    assert expected.middle == pytest.approx(60.0, rel=0.1), "seen from start to finish"
    assert model.queue.wait.seen == 1
    assert model.posting.seen == 1
    assert model.posting.mean < PRIOR_POSTING

    second = await rig.submit()
    current = tracker.get(second.id)
    assert current is not None
    warm = tracker.estimate(current)
    assert warm is not None
    assert warm.basis is Basis.LEARNED
    assert 60.0 < warm.at - rig.clock.now() < 90.0


async def test_a_waiting_job_is_expected_after_the_job_ahead_of_it(make_rig) -> None:
    settings = make_settings(limits=ServerLimits(per_user=1, per_server=10))
    rig = await make_rig(settings=settings, generation_time=120.0)
    tracker = await rig.start()
    first = await rig.submit()
    second = await rig.submit()
    await rig.wait_for_state(first.id, JobState.RUNNING)
    await eventually(lambda: tracker.place_in_line(second.id) == 1, what="a place in line")

    ahead, behind = tracker.get(first.id), tracker.get(second.id)
    assert ahead is not None
    assert behind is not None
    first_eta, second_eta = tracker.estimate(ahead), tracker.estimate(behind)
    assert first_eta is not None
    assert second_eta is not None
    started = ahead.entered(JobState.RUNNING)
    assert started is not None
    model = tracker.eta_model
    run = model.run(RunKind(5))
    finish = started + run.middle
    expected = finish + model.queue.wait.mean + run.middle + run.spread + model.posting.mean
    assert second_eta.at == pytest.approx(expected, abs=1.0)
    assert second_eta.at > first_eta.at


class Announced:
    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def job_changed(self, job: Job) -> None:
        self.jobs.append(job)


async def test_a_reminder_brings_the_job_back_to_its_observers(make_rig) -> None:
    rig = await make_rig(generation_time=600.0)
    tracker = await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.RUNNING)
    announced = Announced()
    tracker.add_observer(announced)

    tracker.remind_at(job.id, rig.clock.now() + 30.0)
    tracker.remind_at(job.id, rig.clock.now() + 5.0)
    await eventually(lambda: bool(announced.jobs), what="the reminder")
    assert [seen.state for seen in announced.jobs] == [JobState.RUNNING]
    assert tracker.kept_per_job()["reminders"] == 0, "the later call replaced the earlier one"

    tracker.remind_at(12345, rig.clock.now())
    assert tracker.kept_per_job()["reminders"] == 0, "no reminder for a job it does not hold"


async def test_after_a_restart_every_open_job_comes_back_when_its_estimate_passes(
    make_rig,
) -> None:
    rig = await make_rig(generation_time=600.0)
    tracker = await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.RUNNING)

    tracker = await rig.restart()
    assert tracker.kept_per_job()["reminders"] == 1


async def test_a_run_failed_at_runcomfy_teaches_when_in_a_run_failures_come(make_rig) -> None:
    rig = await make_rig(generation_time=60.0)
    tracker = await rig.start()
    first = await rig.submit()
    await rig.wait_for_state(first.id, JobState.DELIVERED)
    rig.emulator.script_outcomes(JobOutcome.fail("out of memory"))
    second = await rig.submit()
    await rig.wait_for_state(second.id, JobState.FAILED)
    shares = list(tracker.eta_model.runs.failures.shares)
    assert len(shares) == 1
    assert 0.8 <= shares[0] <= 1.2, "failed at the end of a run as long as the first"


async def test_a_failure_seen_while_queued_teaches_nothing_of_when_runs_fail(make_rig) -> None:
    """A run that starts and fails between two polls of the queue was never seen running:
    its moment in the run is unknown, so it must not count as a failure at the start."""
    rig = await make_rig(generation_time=1.0)
    tracker = await rig.start()
    tracker.eta_model.runs.observe(5, 60.0)
    rig.emulator.script_outcomes(JobOutcome.fail("refused input"))
    job = await rig.submit()
    failed = await rig.wait_for_state(job.id, JobState.FAILED)
    assert failed.entered(JobState.RUNNING) is None, "the run was never seen"
    assert list(tracker.eta_model.runs.failures.shares) == []


async def test_a_failure_after_the_deadline_teaches_nothing_of_when_runs_fail(make_rig) -> None:
    """Noticed at the late pace, long after any run the model expects: its moment would
    stretch the failure window until there is none."""
    rig = await make_rig(
        settings=make_settings(deadline_seconds=120.0, late_poll_interval=20.0),
        generation_time=300.0,
    )
    tracker = await rig.start()
    tracker.eta_model.runs.observe(5, 60.0)
    rig.emulator.script_outcomes(JobOutcome.fail("out of memory"))
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.TIMED_OUT)
    failed = await rig.wait_for_state(job.id, JobState.FAILED, within=20.0)
    assert failed.entered(JobState.RUNNING) is not None
    assert list(tracker.eta_model.runs.failures.shares) == []
