"""Polling: how late each schedule notices a finished or failed job, and at what cost.

The real `JobTracker` polls the in-repo RunComfy emulator on a fast scaled clock, once
per poll setting (adaptive, fixed 2 s, fixed 5 s), all three side by side on one clock
with the same jobs. No Discord: detection is what is measured, from the emulator's
finish to the tracker's COMPLETED (or FAILED) state. Each regime runs from a cold start
and again warm (the policy first learns runs drawn from the regime's first phase).

The job model: video lengths as in testkit/load.py's mix; a run grows linearly from the
regime's shortest (3 s video) to its longest (15 s video), times a normal jitter
(σ = 8 %); a queue wait of 0–15 s; one job in `failure_share` fails. When in its run
it fails follows one of three failure models, each run in full: early (in the first
fifth of the run, as inputs refused or memory running out), late (in the last fifth, as a
failed encode or upload) and uniform (anywhere from 3 s into the run to its end).
Submissions are spread out (exponential gaps), so a cold policy can learn during the run.

The same run measures the status card's estimates (`bench.eta`): at every change of a
job's state, how far the estimate was from when the video was posted (a notifier that
posts at once stands in for Discord). Warm, the tracker first learns the queue waits
and runs of past jobs drawn from the regime's first phase.
"""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.eta import NO_ESTIMATES, Estimates, EtaAccuracy, PostsAtOnce
from bot.clock import ScaledClock
from bot.jobs.eta import EtaModel
from bot.jobs.line import ServerLimits
from bot.jobs.model import Job, JobOrigin, JobState
from bot.jobs.polling import AdaptivePolling, FixedPolling, PollPolicy, RunKind, RunModel
from bot.jobs.tracker import JobTracker, TrackerSettings
from bot.runcomfy.client import RunComfyClient
from bot.runcomfy.gate import RequestGate
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest
from bot.runcomfy.retry import RetryPolicy
from bot.secret import Secret
from bot.store.sqlite_jobs import JobStore
from testkit.load import DURATION_MIX
from testkit.runcomfy import Endpoint, JobOutcome, RunComfyEmulator
from testkit.stats import Summary

JITTER = 0.08
QUEUE_WAIT = (0.0, 15.0)
FIRST_FAILURE = 3.0
_KEY = re.compile(r"^poll-(\d+): ")
FINAL = (JobState.COMPLETED, JobState.FAILED)


@dataclass(frozen=True, slots=True)
class Phase:
    """A stretch of jobs during which RunComfy runs at one speed."""

    jobs: int
    shortest: float
    """Emulated seconds a 3 s video runs (before jitter)."""
    longest: float
    """Emulated seconds a 15 s video runs (before jitter)."""
    spacing: float
    """Mean emulated seconds between two submissions."""

    def run_seconds(self, duration: int) -> float:
        return self.shortest + (self.longest - self.shortest) * (duration - 3) / 12


@dataclass(frozen=True, slots=True)
class FailureModel:
    """When in its run a failing job fails: a share of the run between `low` and `high`
    (None: uniformly from `FIRST_FAILURE` seconds to the end, the earlier benchmark's)."""

    key: str
    label: str
    low: float | None = None
    high: float | None = None

    def moment(self, rng: random.Random, run: float) -> float:
        if self.low is None or self.high is None:
            return rng.uniform(FIRST_FAILURE, run)
        return max(1.0, run * rng.uniform(self.low, self.high))


UNIFORM = FailureModel("uniform", "failures anywhere")
FAILURE_MODELS = (
    FailureModel("early", "failures early", 0.02, 0.2),
    FailureModel("late", "failures late", 0.8, 1.0),
    UNIFORM,
)


@dataclass(frozen=True, slots=True)
class Regime:
    key: str
    label: str
    phases: tuple[Phase, ...]


@dataclass(frozen=True, slots=True)
class PollSetting:
    label: str
    make: Callable[[RunModel], PollPolicy]
    """The schedule, given the run model the tracker teaches."""


SETTINGS = (
    PollSetting("adaptive", lambda runs: AdaptivePolling(model=runs)),
    PollSetting("fixed 2 s", lambda runs: FixedPolling(2.0)),
    PollSetting("fixed 5 s", lambda runs: FixedPolling(5.0)),
)


@dataclass(frozen=True, slots=True)
class PollingConfig:
    regimes: tuple[Regime, ...]
    speed: float
    seed: int
    failure_share: float = 0.15
    failures: tuple[FailureModel, ...] = FAILURE_MODELS
    history: int = 30
    """Past jobs (queue wait and run) the warm tracker learns before its first job."""
    within: float = 300.0
    """Real seconds to wait for one regime's jobs to finish."""


def regimes(scale: float = 1.0) -> tuple[Regime, ...]:
    """The four regimes; `scale` shrinks the job counts (for the smoke run)."""

    def jobs(count: int) -> int:
        return max(2, round(count * scale))

    return (
        Regime("short", "runs of 10–30 s", (Phase(jobs(40), 10.0, 30.0, 6.0),)),
        Regime("medium", "runs of 60–180 s", (Phase(jobs(40), 60.0, 180.0, 25.0),)),
        Regime("long", "runs of 5–10 min", (Phase(jobs(40), 300.0, 600.0, 90.0),)),
        Regime(
            "change",
            "runs of 20–60 s, then 3× faster, then 3× slower",
            (
                Phase(jobs(20), 20.0, 60.0, 12.0),
                Phase(jobs(20), 20.0 / 3, 20.0, 5.0),
                Phase(jobs(20), 60.0, 180.0, 30.0),
            ),
        ),
    )


@dataclass(frozen=True, slots=True)
class PlannedJob:
    index: int
    submit_at: float
    """Emulated seconds after the regime's start."""
    duration: int
    queue_wait: float
    run_seconds: float
    """How long it generates before it completes, or before it fails."""
    fails: bool

    @property
    def prompt(self) -> str:
        return f"poll-{self.index}: a paper boat drifting down a rain gutter"


def plan_jobs(
    regime: Regime, seed: int, failure_share: float, failures: FailureModel = UNIFORM
) -> list[PlannedJob]:
    """The same jobs every time for a seed; phases follow each other."""
    rng = random.Random(f"{seed}:{regime.key}")
    lengths, weights = zip(*DURATION_MIX, strict=True)
    planned: list[PlannedJob] = []
    at = 0.0
    for phase in regime.phases:
        for _ in range(phase.jobs):
            duration = rng.choices(lengths, weights)[0]
            run = phase.run_seconds(duration) * max(0.5, rng.gauss(1.0, JITTER))
            fails = rng.random() < failure_share
            if fails:
                run = failures.moment(rng, run)
            planned.append(
                PlannedJob(len(planned), at, duration, rng.uniform(*QUEUE_WAIT), run, fails)
            )
            at += rng.expovariate(1.0 / phase.spacing)
    return planned


@dataclass(frozen=True, slots=True)
class PastJob:
    duration: int
    queue_wait: float
    run_seconds: float
    failed_at: float | None = None
    """Seconds into its run it failed at, for the share of them that failed."""


def warm_history(
    regime: Regime,
    seed: int,
    runs: int,
    failures: FailureModel = UNIFORM,
    failure_share: float = 0.0,
) -> list[PastJob]:
    """Finished jobs of the regime's first phase (their queue waits and failures drawn
    apart, so the runs are the same with or without them)."""
    rng = random.Random(f"{seed}:{regime.key}:history")
    waits = random.Random(f"{seed}:{regime.key}:history-waits")
    fails = random.Random(f"{seed}:{regime.key}:history-failures")
    lengths, weights = zip(*DURATION_MIX, strict=True)
    phase = regime.phases[0]
    history = []
    for _ in range(runs):
        duration = rng.choices(lengths, weights)[0]
        run = phase.run_seconds(duration) * rng.gauss(1.0, JITTER)
        failed_at = failures.moment(fails, run) if fails.random() < failure_share else None
        history.append(PastJob(duration, waits.uniform(*QUEUE_WAIT), run, failed_at))
    return history


@dataclass(frozen=True, slots=True)
class SettingResult:
    setting: str
    jobs: int
    requests_per_job: float
    lag: Summary
    """Emulator completion → tracker's COMPLETED, emulated seconds."""
    failure_lag: Summary
    """Emulator failure → tracker's FAILED, emulated seconds."""
    unfinished: int
    eta_error: EtaAccuracy = NO_ESTIMATES
    """|estimate − posted| ÷ time left, at every change of state of delivered jobs."""


@dataclass(frozen=True, slots=True)
class RegimeResult:
    regime: str
    label: str
    warm: bool
    settings: tuple[SettingResult, ...]
    failures: str = UNIFORM.label

    def of(self, setting: str) -> SettingResult:
        return next(result for result in self.settings if result.setting == setting)


class _Finishes:
    """Observer: when the tracker first saw each job completed or failed, by plan index."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[JobState, float]] = {}

    def job_changed(self, job: Job) -> None:
        match = _KEY.match(job.request.prompt or "")
        at = job.entered(job.state)
        if match and job.state in FINAL and at is not None:
            self.seen.setdefault(int(match[1]), (job.state, at))


@dataclass
class _Stack:
    """One poll setting's own emulator, store and tracker on the shared clock."""

    setting: PollSetting
    emulator: RunComfyEmulator
    store: JobStore
    tracker: JobTracker
    finishes: _Finishes
    estimates: Estimates


def _emulator(clock: ScaledClock, planned: Sequence[PlannedJob]) -> RunComfyEmulator:
    def job_of(payload: Mapping[str, Any]) -> PlannedJob:
        match = _KEY.match(str(payload.get("prompt", "")))
        assert match is not None
        return planned[int(match[1])]

    def outcome(payload: Mapping[str, Any]) -> JobOutcome:
        return JobOutcome.fail() if job_of(payload).fails else JobOutcome.complete()

    return RunComfyEmulator(
        clock=clock,
        workers=100_000,
        generation_time=lambda payload: job_of(payload).run_seconds,
        queue_delay=lambda payload: job_of(payload).queue_wait,
        outcome=outcome,
        record_requests=False,
    )


async def _open_stack(
    setting: PollSetting,
    eta: EtaModel,
    clock: ScaledClock,
    session: aiohttp.ClientSession,
    planned: Sequence[PlannedJob],
    folder: Path,
) -> _Stack:
    emulator = _emulator(clock, planned)
    await emulator.start()
    store = await JobStore.open(folder / f"{setting.label.replace(' ', '-')}.sqlite3")
    client = RunComfyClient(
        session,
        base_url=emulator.base_url,
        token=Secret(emulator.token),
        clock=clock,
        read_timeout=30.0,
        retry=RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=10.0, deadline=120.0),
        gate=RequestGate(clock, rate_per_second=10_000.0, max_concurrency=200),
    )
    limits = ServerLimits(per_user=10_000, per_server=10_000)
    tracker = JobTracker(
        store,
        client,
        clock=clock,
        pricing=Pricing(),
        poll_policy=setting.make(eta.runs),
        settings=TrackerSettings(limits=limits, max_active_total=10_000, deadline_seconds=3600.0),
        notifier=PostsAtOnce(),
        eta=eta,
    )
    finishes, estimates = _Finishes(), Estimates(tracker.estimate)
    tracker.add_observer(finishes)
    tracker.add_observer(estimates)
    await tracker.start()
    return _Stack(setting, emulator, store, tracker, finishes, estimates)


async def _close_stack(stack: _Stack) -> None:
    await stack.tracker.close()
    await stack.store.close()
    await stack.emulator.close()


def _learned(history: Sequence[PastJob]) -> EtaModel:
    """What a tracker knows after the `history` (a notifier that posts at once included)."""
    eta = EtaModel()
    for job in history:
        if job.failed_at is None:
            eta.record_run(RunKind(job.duration), job.run_seconds)
            eta.posting.observe(0.0)
        eta.queue.wait.observe(job.queue_wait)
    for job in history:
        if job.failed_at is not None:
            eta.record_failure(RunKind(job.duration), job.failed_at)
    return eta


async def run_regime(
    regime: Regime,
    config: PollingConfig,
    *,
    warm: bool,
    workdir: Path,
    failures: FailureModel = UNIFORM,
) -> RegimeResult:
    """Every poll setting against the same jobs, side by side on one clock."""
    planned = plan_jobs(regime, config.seed, config.failure_share, failures)
    history = (
        warm_history(regime, config.seed, config.history, failures, config.failure_share)
        if warm
        else []
    )
    clock = ScaledClock(config.speed)
    async with aiohttp.ClientSession() as session:
        stacks = [
            await _open_stack(s, _learned(history), clock, session, planned, workdir)
            for s in SETTINGS
        ]
        try:
            await _submit_all(stacks, planned, clock)
            await _await_finishes(stacks, len(planned), config.within)
            results = tuple(_measure(stack, planned) for stack in stacks)
        finally:
            for stack in stacks:
                await _close_stack(stack)
    return RegimeResult(regime.key, regime.label, warm, results, failures.label)


async def _submit_all(
    stacks: Sequence[_Stack], planned: Sequence[PlannedJob], clock: ScaledClock
) -> None:
    start = clock.now()
    for job in planned:
        await clock.sleep(start + job.submit_at - clock.now())
        request = KlingRequest(prompt=job.prompt, duration=job.duration)
        for stack in stacks:
            created = await stack.tracker.create(
                request, JobOrigin(requester_id=1, channel_id=1, guild_id=1)
            )
            await stack.tracker.enqueue(created.id)


async def _await_finishes(stacks: Sequence[_Stack], jobs: int, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if all(len(stack.finishes.seen) >= jobs for stack in stacks):
            return
        await asyncio.sleep(0.05)


def _measure(stack: _Stack, planned: Sequence[PlannedJob]) -> SettingResult:
    finished_at = {}
    for emulated in stack.emulator.jobs.values():
        match = _KEY.match(str(emulated.payload.get("prompt", "")))
        if match and emulated.finished_at is not None:
            finished_at[int(match[1])] = emulated.finished_at
    lags: dict[JobState, list[float]] = {state: [] for state in FINAL}
    for index, (state, seen) in stack.finishes.seen.items():
        if index in finished_at:
            lags[state].append(seen - finished_at[index])
    counts = stack.emulator.counts
    requests = counts[Endpoint.STATUS] + counts[Endpoint.RESULT]
    return SettingResult(
        setting=stack.setting.label,
        jobs=len(planned),
        requests_per_job=requests / max(len(planned), 1),
        lag=Summary.of(lags[JobState.COMPLETED]),
        failure_lag=Summary.of(lags[JobState.FAILED]),
        unfinished=len(planned) - len(stack.finishes.seen),
        eta_error=stack.estimates.accuracy(),
    )


async def run_polling(
    config: PollingConfig, workdir: Path | None = None, log: Callable[[str], None] | None = None
) -> list[RegimeResult]:
    """Every failure model and regime, cold and warm (the two concurrently, the rest one
    after another)."""
    results: list[RegimeResult] = []
    with tempfile.TemporaryDirectory(prefix="poll-bench-") as scratch:
        root = workdir or Path(scratch)
        for failures in config.failures:
            for regime in config.regimes:
                if log is not None:
                    log(f"polling: {regime.label}, {failures.label}, cold and warm …")
                folders = [
                    root / f"{failures.key}-{regime.key}-{temp}" for temp in ("cold", "warm")
                ]
                for folder in folders:
                    folder.mkdir(parents=True, exist_ok=True)
                results += await asyncio.gather(
                    *(
                        run_regime(regime, config, warm=warm, workdir=folder, failures=failures)
                        for warm, folder in zip((False, True), folders, strict=True)
                    )
                )
    return results
