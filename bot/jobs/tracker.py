"""The job tracker: persist, submit, watch, cancel, deliver — and survive restarts.

A small composition of rooms with one job each: the `JobBook` holds unfinished jobs and
records every change (store, then memory, then observers), `JobIntake` takes new jobs in,
the `Scheduler` owns time and tasks, `LineRelease` decides who leaves the waiting line,
`Submission` sends a job once, `JobWatch` polls it, `NoticeSender` posts its final
message, `JobStopping` cancels and abandons, `JobSharing` keeps this process's share of
the jobs when several processes share them, and `RunComfySide` says what RunComfy's
answers mean. A restart (or a take-over from a dead process) at any point
resumes from the store: polling carries on from the saved request id, a finished job is
delivered, and a job whose submit outcome is unknown is never sent again by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.clock import Clock
from bot.jobs.book import JobBook
from bot.jobs.events import EventBus, JobCommitted, JobDue, TurnBegins
from bot.jobs.intake import JobIntake
from bot.jobs.leases import JobLeases, LeaseLost, LocalLeases, Room
from bot.jobs.line import STORE_REFUSING, TOKEN_REFUSED, NotTakingJobs, ServerLimits
from bot.jobs.model import (
    ACTIVE_STATES,
    WATCHED_STATES,
    Failure,
    Job,
    JobState,
    NoticeState,
    is_open,
)
from bot.jobs.notices import NoticeSender
from bot.jobs.peers import JobPeers, NoPeers
from bot.jobs.polling import PollPolicy
from bot.jobs.ports import JobObserver, JobStorage, Notifier, RunComfy, StoreError
from bot.jobs.release import LineRelease, moves_the_line
from bot.jobs.runcomfy_side import (
    RunComfySide,
)
from bot.jobs.scheduler import Scheduler
from bot.jobs.sharing import JobSharing
from bot.jobs.stopping import CancelOutcomeKind, CancelReport, JobStopping
from bot.jobs.submission import Submission
from bot.jobs.token_watch import TokenWatch
from bot.jobs.tracker_settings import TrackerSettings
from bot.jobs.watch import JobWatch
from bot.runcomfy.pricing import Pricing

log = logging.getLogger(__name__)

__all__ = ["CancelOutcomeKind", "CancelReport", "JobTracker", "TrackerSettings"]


class JobTracker:
    def __init__(
        self,
        store: JobStorage,
        runcomfy: RunComfy,
        *,
        clock: Clock,
        pricing: Pricing,
        poll_policy: PollPolicy,
        settings: TrackerSettings | None = None,
        notifier: Notifier | None = None,
        limits_for: Callable[[int | None], ServerLimits] | None = None,
        leases: JobLeases | None = None,
        peers: JobPeers | None = None,
    ) -> None:
        """`leases` say which open jobs are this process's (default: all of them, one
        process on its own database); `peers` reach the processes holding the others."""
        self._clock = clock
        self._policy = poll_policy
        self._settings = settings = settings or TrackerSettings()
        self._notifier = notifier
        self._closing = False
        self._submits: set[asyncio.Task[None]] = set()
        limits = limits_for or (lambda guild_id: settings.limits)
        self._limits_for = limits
        self._bus = bus = EventBus()
        self._book = JobBook(store, bus=bus, clock=clock)
        self._line = LineRelease(limits_for=limits, max_active_total=settings.max_active_total)
        self._scheduler = Scheduler(
            clock,
            bus,
            crash_retry_delay=settings.crash_retry_delay,
            quiet=(StoreError, LeaseLost),
            quiet_retry_delay=settings.store_retry_delay,
        )
        bus.subscribe(JobCommitted, self._committed)
        bus.subscribe(JobDue, self._act)
        bus.subscribe(TurnBegins, self._release)
        self._runcomfy = RunComfySide(runcomfy)
        self._token = TokenWatch(
            self._runcomfy,
            self._scheduler,
            clock=clock,
            log_every=settings.token_log_every,
            probe_every=settings.token_probe_interval,
            waiting_jobs=lambda: len(self._book),
            works_again=self._line_may_move,
        )
        self._intake = JobIntake(
            self._book,
            refusing=self._not_taking_jobs,
            clock=clock,
            pricing=pricing,
            limits_for=limits,
            max_waiting_per_user=settings.max_waiting_per_user,
        )
        self._submission = Submission(
            self._book,
            self._runcomfy,
            self._scheduler,
            clock=clock,
            policy=poll_policy,
            settings=settings,
            settled=self._settled,
            hold=self._line.hold,
            refused_token=self._token.refusal,
            room_for=self._room_for,
        )
        self._watch = JobWatch(
            self._book,
            self._runcomfy,
            self._scheduler,
            clock=clock,
            policy=poll_policy,
            settings=settings,
            token_refused=self._token.refusal,
            token_works=self._token.works,
        )
        self._notices = NoticeSender(
            self._book,
            self._scheduler,
            clock=clock,
            retry=settings.notice_retry,
            notifier=lambda: self._notifier,
        )
        peers = peers or NoPeers()
        leases = leases or LocalLeases(store)
        self._stopping = JobStopping(
            self._book,
            self._runcomfy,
            self._scheduler,
            self._watch,
            peers,
            clock=clock,
            policy=poll_policy,
            shared=leases.shared,
            peer_timeout=settings.peer_timeout,
        )
        self._sharing = JobSharing(
            self._book,
            leases,
            peers,
            claim_batch=settings.claim_batch,
            take_up=self._take_up,
            let_go=self._let_go,
            answer=self._stopping.answer,
            spawn=lambda work: self._scheduler.spawn(work, name="job-leases"),
        )
        self.cancel = self._stopping.cancel
        self.abandon = self._stopping.abandon
        self.create = self._intake.create
        self.usage_records = self._intake.usage_records
        self.add_observer = self._book.add_observer
        self.remove_observer = self._book.remove_observer
        self.fetch = self._book.fetch

    # ----------------------------------------------------------------- lifecycle

    @property
    def observers(self) -> tuple[JobObserver, ...]:
        return self._book.observers

    def set_notifier(self, notifier: Notifier | None) -> None:
        """Who posts final messages; None holds them (they wait, stored, for the next)."""
        self._notifier = notifier
        if notifier is None:
            return
        for job in self._book:
            if job.notice in (NoticeState.PENDING, NoticeState.SENDING):
                self._scheduler.at(job.id, self._clock.now())

    async def start(self) -> None:
        """Take up this process's unfinished jobs from the store, settle each one, start
        the scheduler (and, when other processes share the jobs, the lease keeper)."""
        await self._learn_from_history()
        await self._sharing.start()
        log.info("job tracker started with %d unfinished jobs", len(self._book))
        self._scheduler.start()
        await self._sharing.start_sharing()

    async def _take_up(self, jobs: list[Job]) -> None:
        now = self._clock.now()
        for job in jobs:
            if self._book.get(job.id) is not None:
                continue
            self._book.load(job)
            await self._recover(job, now)
        self._scheduler.wake()

    def _let_go(self, job_id: int) -> None:
        log.warning("job %d: another process holds it now; letting it go", job_id)
        self._book.drop(job_id)
        self._scheduler.forget(job_id)
        self._watch.forget(job_id)
        self._line.left_line(job_id)
        self._line.dirty = True

    def _room_for(self, job: Job) -> Room:
        return Room(self._limits_for(job.guild_id), self._settings.max_active_total)

    def is_running(self) -> bool:
        return self._scheduler.is_alive()

    def store_writable(self) -> bool:
        """Whether the store took the last write (see `StoreHealth`)."""
        return self._book.health.writable

    async def _recover(self, job: Job, now: float) -> None:
        """Decide what a job reloaded after a restart needs; never resubmit by itself."""
        if job.state is JobState.NEW:
            await self._book.finish(
                job, JobState.CANCELLED, Failure.RESTARTED_BEFORE_QUEUED, at=now
            )
        elif job.state is JobState.SUBMITTING:
            await self._book.finish(
                job, JobState.SUBMISSION_UNKNOWN, Failure.RESTARTED_WHILE_SUBMITTING, at=now
            )
        elif job.state is JobState.WAITING:
            self._line.dirty = True
        else:
            self._scheduler.at(job.id, now)
            if job.state in ACTIVE_STATES:
                self._line.served(job.requester_id, job.updated_at)

    async def close(self) -> None:
        """Stop: let in-flight submits settle briefly, then cancel every task we own."""
        self._closing = True
        self._sharing.stop_taking()
        if self._submits:
            await asyncio.wait(set(self._submits), timeout=self._settings.shutdown_grace)
        await self._scheduler.close()
        await self._sharing.close()

    async def _learn_from_history(self) -> None:
        recent = await self._book.store.find(
            states=(JobState.DELIVERED, JobState.COMPLETED), limit=self._settings.history_runs
        )
        for job in reversed(recent):
            started = job.entered(JobState.RUNNING)
            finished = job.entered(JobState.COMPLETED)
            if started is not None and finished is not None:
                self._policy.record_run(job.request.effective_duration, finished - started)

    # ---------------------------------------------------------------- public API

    async def enqueue(self, job_id: int, *, status_message_id: int | None = None) -> Job:
        """Put a NEW job in the waiting line; from here on the tracker drives it. Raises
        `NotTakingJobs` (nothing was sent) when the database refuses to record that; the
        stored job is then cancelled as soon as the database takes writes again."""
        async with self._book.lock(job_id):
            job = self._book.require(job_id)
            changes = {} if status_message_id is None else {"status_message_id": status_message_id}
            try:
                return await self._book.commit(
                    job.transition(JobState.WAITING, self._clock.now(), **changes)
                )
            except StoreError as error:
                self._book.drop(job_id)
                retry = self._settings.store_retry_delay
                withdraw = self._intake.withdraw(job, retry_every=retry)
                self._scheduler.spawn(withdraw, name=f"withdraw-{job_id}")
                raise NotTakingJobs(STORE_REFUSING) from error

    async def annotate(self, job_id: int, **changes: Any) -> Job:
        """Record caller-owned facts (message ids, `extra`) on a job in any state."""
        return await self._book.annotate(job_id, **changes)

    def get(self, job_id: int) -> Job | None:
        """An unfinished job from memory (None when finished or unknown)."""
        return self._book.get(job_id)

    async def recent(self, **filters: Any) -> list[Job]:
        """Finished or not, newest first (see JobStorage.find)."""
        return await self._book.store.find(**filters)

    def open_jobs(self, guild_id: int | None = None) -> list[Job]:
        """Jobs not yet finished (optionally of one server), oldest first."""
        return self._book.open_jobs(guild_id)

    def kept_per_job(self) -> dict[str, int]:
        """How many jobs each of the tracker's per-job records holds right now. Once no
        job is open and nothing is under way every count is 0: a tracker that runs for
        months must not keep anything for the jobs it is done with."""
        return {
            "open_jobs": len(self._book),
            "job_locks": self._book.locks_in_use,
            "due_times": self._scheduler.jobs_due,
            "result_pending_streaks": self._watch.pending_streaks,
            **self._line.kept(),
        }

    def place_in_line(self, job_id: int) -> int | None:
        """1 for the next job to be released, and so on; None when not waiting."""
        return self._line.place_of(job_id)

    def _not_taking_jobs(self) -> str | None:
        if not self._book.health.writable:
            return STORE_REFUSING
        if self._token.refused:
            return TOKEN_REFUSED
        return None

    # -------------------------------------------------------------- dispatching

    def _act(self, due: JobDue) -> None:
        """A job came due: release the line, poll it, or send its final message."""
        job_id = due.job_id
        job = self._book.get(job_id)
        if job is None:
            return
        if job.state is JobState.WAITING:
            self._line.dirty = True
            self._scheduler.wake()
        elif job.notice in (NoticeState.PENDING, NoticeState.SENDING):
            self._scheduler.run_for(job_id, self._notices.send, name="notice")
        elif job.state in WATCHED_STATES:
            self._scheduler.run_for(job_id, self._watch.poll, name="poll")

    def _release(self, turn: TurnBegins) -> None:
        """Submit the first jobs in line that fit the limits; refresh places in line."""
        if not self._line.dirty:
            return
        paused = self._closing or self._token.refused
        release = self._line.release(self._book, turn.now, closing=paused)
        for job in release.submit:
            task = self._scheduler.spawn(self._submission.submit(job.id), name=f"submit-{job.id}")
            self._submits.add(task)
            task.add_done_callback(self._submits.discard)
        for job_id in release.moved:
            self._book.announce(self._book.require(job_id))
        for job_id, when in release.wake_at:
            self._scheduler.at(job_id, when)

    def _line_may_move(self) -> None:
        self._line.dirty = True
        self._scheduler.wake()

    def _settled(self, job_id: int) -> None:
        self._line.settled(job_id)
        self._scheduler.wake()

    def _committed(self, event: JobCommitted) -> None:
        """Keep time and the line in step with a recorded change."""
        previous, job = event.previous, event.job
        if not is_open(job):
            self._scheduler.forget(job.id)
            self._watch.forget(job.id)
        if job.notice is NoticeState.PENDING and (
            previous is None or previous.notice is not job.notice
        ):
            self._scheduler.at(job.id, job.not_before or self._clock.now())
        told_late = job.state is JobState.TIMED_OUT and job.notice is NoticeState.SENT
        if told_late and previous is not None and previous.notice is not NoticeState.SENT:
            self._watch.poll_after(job, self._settings.late_poll_interval)
        if job.state is not JobState.WAITING:
            self._line.left_line(job.id)
        if previous is not None and moves_the_line(previous.state, job.state):
            self._line.dirty = True
            self._scheduler.wake()
