"""A tracker that runs for months keeps nothing for the jobs it is done with: once no job
is open, every per-job record it holds is empty, whatever the jobs went through."""

from __future__ import annotations

from bot.jobs.model import JobState
from bot.jobs.polling import AdaptivePolling
from bot.jobs.tracker import CancelOutcomeKind, JobTracker
from testkit.runcomfy import JobOutcome
from testkit.waiting import eventually
from tests.bot.jobs.rig import make_settings


def kept(tracker: JobTracker) -> dict[str, int]:
    return {name: count for name, count in tracker.kept_per_job().items() if count}


async def test_delivered_and_cancelled_jobs_leave_nothing_behind(make_rig) -> None:
    rig = await make_rig(settings=make_settings(max_active_total=1))
    tracker = await rig.start()
    delivered = await rig.submit()
    waiting = await rig.submit(user=2)
    report = await tracker.cancel(waiting.id, by=2)
    assert report.outcome is CancelOutcomeKind.CANCELLED
    await rig.wait_for_state(delivered.id, JobState.DELIVERED)
    await eventually(lambda: not kept(tracker), what="nothing kept per job")


async def test_cancel_pressed_on_finished_or_unknown_jobs_leaves_nothing_behind(make_rig) -> None:
    """A Cancel button stays under a status message for good; every press on a job long
    done (or on an id the bot never had) used to leave a lock behind."""
    rig = await make_rig()
    tracker = await rig.start()
    job = await rig.submit()
    await rig.wait_for_state(job.id, JobState.DELIVERED)
    await eventually(lambda: not kept(tracker), what="nothing kept per job")

    outcomes = [(await tracker.cancel(job_id, by=1)).outcome for job_id in (job.id, job.id, 999)]

    assert outcomes == [
        CancelOutcomeKind.ALREADY_FINISHED,
        CancelOutcomeKind.ALREADY_FINISHED,
        CancelOutcomeKind.NOT_FOUND,
    ]
    assert kept(tracker) == {}


async def test_the_adaptive_schedule_forgets_each_run_it_counted(make_rig) -> None:
    """The adaptive schedule counts each run's polls (its budget); a finished, failed or
    cancelled run must not stay counted."""
    rig = await make_rig(policy=AdaptivePolling, generation_time=6.0)
    tracker = await rig.start()
    rig.emulator.script_outcomes(JobOutcome.complete(), JobOutcome.fail("out of memory"))
    delivered, failed = await rig.submit(), await rig.submit(user=2)
    await rig.wait_for_state(delivered.id, JobState.RUNNING)
    await eventually(lambda: tracker.kept_per_job()["runs_counted"] >= 1, what="a run counted")
    await rig.wait_for_state(delivered.id, JobState.DELIVERED)
    await rig.wait_for_state(failed.id, JobState.FAILED)
    await eventually(lambda: not kept(tracker), what="nothing kept per job")
