"""What every room of the job tracker shares: the book of jobs, the scheduler, the clock,
the settings, the poll policy, the estimates' model, the RunComfy side and the event bus
the rooms speak on.

The clock is the process's, corrected to the database's when other processes share the
jobs (`JobSharing` keeps it so): every time a room writes or compares (deadlines, retries,
state times) is then one that every process reads alike.

Each room is handed this one object (and only the rooms it calls by name), instead of the
same pieces one by one and a bundle of callables into the tracker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.clock import Clock, CorrectedClock
from bot.jobs.book import JobBook
from bot.jobs.eta import EtaModel
from bot.jobs.events import EventBus
from bot.jobs.leases import LeaseLost, Room
from bot.jobs.line import ServerLimits
from bot.jobs.model import Job
from bot.jobs.polling import PollPolicy, RunModel
from bot.jobs.ports import JobStorage, RunComfy, StoreError
from bot.jobs.runcomfy_side import RunComfySide
from bot.jobs.scheduler import Scheduler
from bot.jobs.tracker_settings import TrackerSettings

LimitsFor = Callable[[int | None], ServerLimits]
"""A server's limits (None: direct messages), as its settings say right now."""


@dataclass(frozen=True, slots=True)
class TrackerContext:
    book: JobBook
    scheduler: Scheduler
    bus: EventBus
    clock: CorrectedClock
    settings: TrackerSettings
    policy: PollPolicy
    eta: EtaModel
    """What the tracker learns of run times (the run model `policy` reads, if it reads
    one), queue waits and postings."""
    runcomfy: RunComfySide
    limits_for: LimitsFor

    @classmethod
    def create(
        cls,
        store: JobStorage,
        runcomfy: RunComfy,
        *,
        clock: Clock,
        settings: TrackerSettings,
        policy: PollPolicy,
        limits_for: LimitsFor | None = None,
        eta: EtaModel | None = None,
    ) -> TrackerContext:
        """`limits_for` defaults to the settings' limits for every server; a `clock` that is
        already a `CorrectedClock` is kept, so others may read the same corrected time. A refused
        database write or a job another process took over is reported where it happens,
        so the scheduler retries those actions without logging them again. `eta` must
        hold the run model the poll policy reads (by default it is made around it)."""
        eta = eta or EtaModel(runs=policy.runs or RunModel())
        if policy.runs is not None and policy.runs is not eta.runs:
            raise ValueError("the poll policy and the estimates must share one run model")
        bus = EventBus()
        if not isinstance(clock, CorrectedClock):
            clock = CorrectedClock(clock)
        scheduler = Scheduler(
            clock,
            bus,
            crash_retry_delay=settings.crash_retry_delay,
            quiet=(StoreError, LeaseLost),
            quiet_retry_delay=settings.store_retry_delay,
        )
        return cls(
            book=JobBook(store, bus=bus, clock=clock),
            scheduler=scheduler,
            bus=bus,
            clock=clock,
            settings=settings,
            policy=policy,
            eta=eta,
            runcomfy=RunComfySide(runcomfy),
            limits_for=limits_for or (lambda guild_id: settings.limits),
        )

    def room_for(self, job: Job) -> Room:
        """The limits the jobs at RunComfy must leave room for before `job` is sent
        (checked by the database, across every process sharing the jobs); its requester's
        own limit, when they have one, instead of their server's per member."""
        limits = self.limits_for(job.guild_id)
        if job.origin.active_limit is not None:
            limits = replace(limits, per_user=job.origin.active_limit)
        return Room(limits, self.settings.max_active_total)
