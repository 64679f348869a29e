"""The estimate a status card shows: a stated prior while no run was seen, learned run
times by kind, RunComfy's queue, the bot's own line, a job past its estimate, a pace
that shifts, and the fifth that a new estimate must move to replace a shown one."""

from __future__ import annotations

import pytest

from bot.jobs.eta import (
    LIKELY_BY,
    PRIOR_POSTING,
    PRIOR_RUN_SPREAD,
    Basis,
    Eta,
    EtaModel,
    Learned,
    prior_run,
    release_at,
)
from bot.jobs.model import Job, JobState
from bot.jobs.polling import AdaptivePolling, RunKind
from bot.runcomfy.request import KlingRequest, Shot
from tests.bot.jobs.factories import make_job

START = 10_000.0


def running(duration: int = 5, *, at: float = START, **request: object) -> Job:
    kling = KlingRequest(prompt="a red fox running through snow", duration=duration, **request)  # type: ignore[arg-type]
    return make_job(state=JobState.RUNNING, at=at, request=kling)


def queued(position: int | None, *, queued_at: float, seen_at: float) -> Job:
    job = make_job(state=JobState.QUEUED, at=queued_at)
    return job.update(seen_at, queue_position=position)


def warm(seconds: float = 60.0, runs: int = 8, kind: RunKind | None = None) -> EtaModel:
    model = EtaModel()
    for _ in range(runs):
        model.record_run(kind or RunKind(5), seconds)
    return model


def test_with_no_run_seen_it_says_so_and_assumes_the_stated_prior() -> None:
    model = EtaModel()
    eta = model.estimate(running(5), START)
    assert eta is not None
    assert eta.basis is Basis.PRIOR
    assert eta.assumed_run == prior_run(RunKind(5)) == 120.0
    assumed = 120.0 * (1 + LIKELY_BY * PRIOR_RUN_SPREAD)
    assert eta.at == pytest.approx(START + assumed + PRIOR_POSTING)
    assert prior_run(RunKind(15)) == 240.0, "longer videos are assumed to take longer"


def test_warm_it_expects_the_learned_run_plus_one_spread_and_the_posting() -> None:
    model = warm(60.0)
    for _ in range(3):
        model.posting.observe(2.0)
    eta = model.estimate(running(5), START)
    assert eta is not None
    assert eta.basis is Basis.LEARNED
    assert eta.assumed_run is None
    expected = model.runs.expect(RunKind(5))
    assert expected is not None
    assert expected.middle == pytest.approx(60.0)
    assert eta.at == pytest.approx(START + 60.0 + LIKELY_BY * expected.spread + model.posting.mean)
    assert model.posting.mean < PRIOR_POSTING


def test_the_estimate_is_anchored_where_the_run_began_not_where_it_is_asked() -> None:
    model = warm(60.0)
    job = running(5)
    first, later = model.estimate(job, START + 1), model.estimate(job, START + 40)
    assert first is not None
    assert later is not None
    assert first.at == later.at


def test_runs_are_told_apart_by_sound_and_shots() -> None:
    model = EtaModel()
    for _ in range(5):
        model.record_run(RunKind(10, sound=True), 120.0)
        model.record_run(RunKind(10, sound=False), 80.0)
        model.record_run(RunKind(10, sound=True, shots=3), 180.0)
    silent = model.run(RunKind(10, sound=False))
    shots = model.run(RunKind(10, sound=True, shots=3))
    assert silent.middle < model.run(RunKind(10)).middle < shots.middle
    assert shots.middle == pytest.approx(180.0, rel=0.1)
    request = KlingRequest(
        prompt="a day at sea",
        duration=10,
        multi_prompt=(Shot("dawn", 3), Shot("noon", 3), Shot("dusk", 4)),
    )
    assert RunKind.of(request) == RunKind(10, sound=True, shots=3)


def test_an_unseen_kind_borrows_from_runs_of_its_own_sound_first() -> None:
    model = EtaModel()
    for _ in range(5):
        model.record_run(RunKind(5, sound=False), 40.0)
        model.record_run(RunKind(15, sound=False), 120.0)
        model.record_run(RunKind(10, sound=True), 200.0)
    between = model.run(RunKind(10, sound=False))
    assert 40.0 < between.middle < 120.0
    assert between.basis is Basis.LEARNED


def test_a_queued_job_waits_the_learned_wait_until_runcomfy_gives_a_position() -> None:
    model = warm(60.0)
    for wait in (20.0, 30.0, 25.0):
        model.queue.wait.observe(wait)
    job = queued(None, queued_at=START, seen_at=START)
    eta = model.estimate(job, START + 1)
    assert eta is not None
    run = model.run(RunKind(5))
    expected_start = START + model.queue.wait.mean
    assert eta.at == pytest.approx(expected_start + run.middle + run.spread + model.posting.mean)


def test_a_queue_position_counts_down_at_the_pace_positions_were_seen_to_move() -> None:
    model = warm(60.0)
    for start in (0.0, 500.0, 1_000.0, 1_500.0):
        model.queue.started(START + start, START + start + 50.0, 4, START + start)
    assert model.queue.per_position() == pytest.approx(10.0)
    assert model.queue.follows_positions(), "they foretold the starts better than the wait"
    far = model.estimate(queued(5, queued_at=START, seen_at=START + 5), START + 5)
    near = model.estimate(queued(1, queued_at=START, seen_at=START + 45), START + 45)
    assert far is not None
    assert near is not None
    run = model.run(RunKind(5))
    posting = model.posting.mean
    assert far.at == pytest.approx(START + 5 + 6 * 10.0 + run.middle + run.spread + posting)
    assert near.at == pytest.approx(far.at), "a queue moving as learned keeps its estimate"


def test_positions_that_foretell_nothing_are_not_followed() -> None:
    model = warm(60.0)
    for start, position in ((0.0, 40), (500.0, 0), (1_000.0, 25), (1_500.0, 3)):
        model.queue.advanced(5, 1.0)
        model.queue.started(START + start, START + start + 30.0, position, START + start)
    assert not model.queue.follows_positions()
    shown = model.estimate(queued(80, queued_at=START, seen_at=START + 2), START + 2)
    moved = model.estimate(queued(3, queued_at=START, seen_at=START + 9), START + 9)
    assert shown is not None
    assert moved is not None
    run = model.run(RunKind(5))
    expected = START + model.queue.wait.mean + run.middle + run.spread + model.posting.mean
    assert shown.at == pytest.approx(expected)
    assert moved.at == shown.at, "positions moving say nothing new"


def test_a_job_waiting_longer_than_usual_in_the_queue_is_overdue() -> None:
    model = warm(60.0)
    job = queued(None, queued_at=START, seen_at=START)
    eta = model.estimate(job, START)
    assert eta is not None
    assert not eta.overdue(START + 1)
    assert model.estimate(job, eta.at + 1) == eta, "it keeps its time, now past"
    assert eta.overdue(eta.at + 1)


def test_the_line_waits_for_the_slots_ahead_to_free() -> None:
    now = 1_000.0
    assert release_at([], 2, 0, 100.0, now) == now, "a free slot"
    assert release_at([1_050.0], 2, 0, 100.0, now) == now
    assert release_at([1_050.0, 1_200.0], 2, 0, 100.0, now) == 1_050.0
    assert release_at([1_050.0, 1_200.0], 2, 1, 100.0, now) == 1_200.0
    assert release_at([1_050.0, 1_200.0], 2, 2, 100.0, now) == 1_150.0, "a second round"
    assert release_at([900.0], 1, 0, 100.0, now) == now, "overdue holders free slots now"
    assert release_at([1_050.0, 1_100.0, 1_200.0], 2, 0, 100.0, now) == 1_100.0, (
        "a lowered limit frees a slot only once enough holders finished"
    )


def test_a_waiting_job_is_expected_after_its_release_then_the_queue_and_the_run() -> None:
    model = warm(60.0)
    job = make_job(state=JobState.WAITING, at=START)
    released = START + 300.0
    eta = model.estimate(job, START, released)
    assert eta is not None
    run = model.run(RunKind(5))
    expected = released + model.queue.wait.mean + run.middle + run.spread + model.posting.mean
    assert eta.at == pytest.approx(expected)
    asked_to_wait = job.update(START, not_before=START + 600.0)
    later = model.estimate(asked_to_wait, START, released)
    assert later is not None
    assert later.at == pytest.approx(expected + 300.0)


def test_no_estimate_once_nobody_waits_for_the_video() -> None:
    model = warm()
    for state in (JobState.NEW, JobState.COMPLETED, JobState.DELIVERED, JobState.TIMED_OUT):
        assert model.estimate(make_job(state=state), START) is None


def test_a_job_past_its_estimate_is_overdue() -> None:
    model = warm(60.0)
    eta = model.estimate(running(5), START)
    assert eta is not None
    assert not eta.overdue(eta.at - 1)
    assert eta.overdue(eta.at)
    assert model.estimate(running(5), eta.at + 500) == eta, "still the same time, past"


def test_a_pace_that_shifts_is_adopted_after_two_surprising_runs() -> None:
    model = warm(60.0, runs=10)
    model.record_run(RunKind(5), 180.0)
    model.record_run(RunKind(5), 180.0)
    assert model.run(RunKind(5)).middle == pytest.approx(180.0, rel=0.05)
    model.record_run(RunKind(5), 20.0)
    model.record_run(RunKind(5), 20.0)
    assert model.run(RunKind(5)).middle == pytest.approx(20.0, rel=0.05)


def test_a_new_estimate_replaces_a_shown_one_only_when_it_moved_more_than_a_fifth() -> None:
    shown = Eta(at=1_100.0, spread=5.0, basis=Basis.LEARNED)
    now = 1_000.0
    assert not Eta(1_119.0, 5.0, Basis.LEARNED).moved_from(shown, now)
    assert not Eta(1_081.0, 5.0, Basis.LEARNED).moved_from(shown, now)
    assert Eta(1_121.0, 5.0, Basis.LEARNED).moved_from(shown, now)
    assert Eta(1_079.0, 5.0, Basis.LEARNED).moved_from(shown, now)
    assert Eta(1_102.0, 5.0, Basis.LEARNED).moved_from(shown, 1_095.0), (
        "near the end a fifth is little"
    )


def test_the_adaptive_schedule_reads_the_same_run_model() -> None:
    model = warm(60.0)
    policy = AdaptivePolling(model=model.runs)
    assert policy.runs is model.runs
    assert policy.expected_run(5) == model.runs.expect(RunKind(5))


def test_a_learned_average_starts_at_its_prior_and_follows_what_it_sees() -> None:
    average = Learned(10.0)
    assert average.mean == 10.0
    average.observe(0.0)
    assert average.mean == pytest.approx(5.0), "the prior counts as one observation"
    for _ in range(30):
        average.observe(2.0)
    assert average.mean == pytest.approx(2.0, abs=0.1)
    assert average.spread < 0.5
