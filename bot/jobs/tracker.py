"""The job tracker: persist, submit, watch, cancel, deliver — and survive restarts.

A small composition of rooms with one job each, sharing one `TrackerContext` (the book,
the scheduler, the clock, the settings, the poll policy, the RunComfy side and the event
bus). The `JobBook` holds unfinished jobs and records every change (store, then memory,
then `JobCommitted`, then observers), `JobIntake` takes new jobs in and puts them in
line, `LineRelease` decides who leaves the waiting line, `Submission` sends a job once,
`Dispatch` hands each due job to `JobWatch` (polls) or `NoticeSender` (its final
message), `JobOutlook` learns from every change and estimates when each video should be
ready, `JobStopping` cancels and abandons (`Departures` keeps where jobs can no longer
go, and `Submission` sends nothing there), `TokenWatch` follows RunComfy's view of
the bot's token, `JobRecovery` settles jobs read back from the store, and `JobSharing`
keeps this process's share of the jobs when several processes share them. The rooms
speak in typed events (`bot.jobs.events`), each handled by a named method of the room
that reacts.

One job, from intake to delivery: `JobIntake.create` stores it, `JobIntake.enqueue` puts
it in line → `JobCommitted` → `LineRelease.on_job_committed` says `LineMayMove` → at the
scheduler's next turn `LineRelease.on_turn_begins` releases it (`JobReleased`) →
`Submission.on_job_released` sends it (`SubmitSettled` frees its slot) → `JobDue` →
`Dispatch.on_job_due` → `JobWatch.poll` until it finishes → its notice becomes due
(`NoticeSender.on_job_committed`) → `Dispatch.on_job_due` → `NoticeSender.send`.

A restart (or a take-over from a dead process) at any point resumes from the store:
polling carries on from the saved request id, a finished job is delivered, and a job
whose submit outcome is unknown is never sent again by itself.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from typing import Any

from bot.clock import Clock
from bot.grace import let_finish
from bot.jobs.context import LimitsFor, TrackerContext
from bot.jobs.departures import Departures, Destinations, Reachable
from bot.jobs.dispatch import Dispatch
from bot.jobs.eta import Eta, EtaModel
from bot.jobs.intake import CallerCheck, JobIntake
from bot.jobs.leases import JobLeases, LocalLeases
from bot.jobs.model import Failure, Job, JobOrigin
from bot.jobs.notices import NoticeSender
from bot.jobs.outlook import JobOutlook
from bot.jobs.peers import JobPeers, NoPeers
from bot.jobs.polling import PollPolicy
from bot.jobs.ports import JobObserver, JobStorage, Notifier, RunComfy
from bot.jobs.recovery import JobRecovery
from bot.jobs.release import LineRelease
from bot.jobs.sharing import JobSharing
from bot.jobs.stopping import CancelOutcomeKind, CancelReport, JobStopping
from bot.jobs.store_health import StoreProbe
from bot.jobs.submission import Submission
from bot.jobs.token_watch import TokenWatch
from bot.jobs.tracker_settings import TrackerSettings
from bot.jobs.usage import Quota, UsageRecord
from bot.jobs.watch import JobWatch
from bot.runcomfy.pricing import Pricing
from bot.runcomfy.request import KlingRequest

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
        limits_for: LimitsFor | None = None,
        leases: JobLeases | None = None,
        peers: JobPeers | None = None,
        destinations: Destinations | None = None,
        eta: EtaModel | None = None,
    ) -> None:
        """`leases` say which open jobs are this process's (default: all of them, one
        process on its own database); `peers` reach the processes holding the others;
        `destinations` says whether a job's server and channel can still be reached
        (default: always). `eta` is what the estimates learn (by default made around the
        run model the poll policy reads, or a fresh one)."""
        settings = settings or TrackerSettings()
        context = TrackerContext.create(
            store,
            runcomfy,
            clock=clock,
            settings=settings,
            policy=poll_policy,
            limits_for=limits_for,
            eta=eta,
        )
        leases = leases or LocalLeases(store)
        peers = peers or NoPeers()
        self._context = context
        self._hurry = asyncio.Event()
        self._token = TokenWatch(context)
        self._store_probe = StoreProbe(context)
        self._line = LineRelease(context, token=self._token)
        self._outlook = JobOutlook(context, line=self._line)
        self._intake = JobIntake(context, token=self._token, pricing=pricing)
        departures = Departures(context, destinations or Reachable())
        self._departures = departures
        self._submission = Submission(context, departures=departures)
        self._watch = JobWatch(context)
        self._notices = NoticeSender(context, notifier=notifier)
        self._stopping = JobStopping(
            context, watch=self._watch, peers=peers, shared=leases.shared, departures=departures
        )
        self._recovery = JobRecovery(context, line=self._line, shared=leases.shared)
        self._dispatch = Dispatch(
            context, notices=self._notices, watch=self._watch, recovery=self._recovery
        )
        self._sharing = JobSharing(
            context, leases=leases, peers=peers, recovery=self._recovery, stopping=self._stopping
        )

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Take up this process's unfinished jobs from the store, settle each one, start
        the scheduler (and, when other processes share the jobs, the lease keeper)."""
        await self._outlook.learn_from_history()
        await self._sharing.start()
        self._outlook.remind_all()
        log.info("job tracker started with %d unfinished jobs", len(self._context.book))
        self._context.scheduler.start()
        await self._sharing.start_sharing()

    async def stop_taking_work(self) -> None:
        """Closing, the first step: take no job further (none leaves the line, none is
        sent, no job comes due, none is taken over); what is under way goes on."""
        self._line.close()
        self._sharing.stop_taking()
        self._submission.stop_sending()
        await self._context.scheduler.pause()

    async def close(self, *, within: float | None = None) -> None:
        """Stop taking work, let the submits and final messages under way finish for up to
        `within` real seconds (default `shutdown_grace`; or until `hurry`), then cancel
        every task we own and hand the jobs back. Everything else is stored already and
        carries on at the next start."""
        await self.stop_taking_work()
        grace = self._context.settings.shutdown_grace if within is None else within
        await self._let_finish(grace)
        await self._context.scheduler.close()
        await self._sharing.close()

    def hurry(self) -> None:
        """Cut the closing grace short: what is still under way is cut off now."""
        self._hurry.set()

    async def _let_finish(self, within: float) -> None:
        under_way = self._submission.in_flight | self._notices.in_flight
        if not under_way:
            return
        log.info(
            "stopping: letting %d submits and final messages under way finish (up to %.0f s)",
            len(under_way),
            within,
        )
        left = await let_finish(under_way, within=within, hurry=self._hurry)
        if left:
            log.warning(
                "stopping: %d submits or final messages were still under way and are cut off; "
                "the next start settles them",
                len(left),
            )

    def is_running(self) -> bool:
        """Whether the scheduler's loop runs (it stops only with `close`)."""
        return self._context.scheduler.is_alive()

    @property
    def clock(self) -> Clock:
        """The tracker's clock: the process's, corrected to the database's when processes
        share the jobs. Whatever compares its own times with a job's should read it."""
        return self._context.clock

    def store_writable(self) -> bool:
        """Whether the store took the last write (see `StoreHealth`)."""
        return self._context.book.health.writable

    def set_notifier(self, notifier: Notifier | None) -> None:
        """Who posts final messages; None holds them (they wait, stored, for the next)."""
        self._notices.set_notifier(notifier)

    @property
    def observers(self) -> tuple[JobObserver, ...]:
        """Who is told of every recorded change of a job."""
        return self._context.book.observers

    def add_observer(self, observer: JobObserver) -> None:
        """Tell `observer` of every recorded change of a job from now on."""
        self._context.book.add_observer(observer)

    def remove_observer(self, observer: JobObserver) -> None:
        """Stop telling `observer` (nothing happens if it was not told)."""
        self._context.book.remove_observer(observer)

    # ---------------------------------------------------------------- new jobs

    async def create(
        self,
        request: KlingRequest,
        origin: JobOrigin,
        *,
        parent_id: int | None = None,
        locale: str | None = None,
        quota: Quota | None = None,
        session_id: int | None = None,
        check: CallerCheck | None = None,
    ) -> Job:
        """Persist a new job (state NEW), or raise `LimitExceeded` / `QuotaExceeded`, or
        `NotTakingJobs` while the database or RunComfy refuses (nothing would come of it).
        `session_id` makes it an entry of a prompt session, whose rule `check` is (it runs
        with the limits, under the intake lock, and refuses by raising a `LimitExceeded`)."""
        return await self._intake.create(
            request,
            origin,
            parent_id=parent_id,
            locale=locale,
            quota=quota,
            session_id=session_id,
            check=check,
        )

    def holding_intake(self, guild_id: int | None) -> AbstractAsyncContextManager[None]:
        """Hold the intake for a server: no new job of it is taken meanwhile, in any
        process sharing the database (entries of a session close between two jobs)."""
        return self._intake.held(guild_id)

    async def enqueue(self, job_id: int, *, status_message_id: int | None = None) -> Job:
        """Put a NEW job in the waiting line; from here on the tracker drives it. Raises
        `NotTakingJobs` (nothing was sent) when the database refuses to record that; the
        stored job is then cancelled as soon as the database takes writes again."""
        return await self._intake.enqueue(job_id, status_message_id=status_message_id)

    async def usage_records(
        self, *, since: float, guild_id: int | None, requester_id: int | None = None
    ) -> list[UsageRecord]:
        """What the jobs of a server (or a member) since `since` cost and count."""
        return await self._intake.usage_records(
            since=since, guild_id=guild_id, requester_id=requester_id
        )

    # ------------------------------------------------------------ reading jobs

    def get(self, job_id: int) -> Job | None:
        """An unfinished job from memory (None when finished or unknown)."""
        return self._context.book.get(job_id)

    async def fetch(self, job_id: int) -> Job | None:
        """Any job: from memory when unfinished, else from the store."""
        return await self._context.book.fetch(job_id)

    async def recent(self, **filters: Any) -> list[Job]:
        """Finished or not, newest first (see JobStorage.find)."""
        return await self._context.book.store.find(**filters)

    def open_jobs(self, guild_id: int | None = None) -> list[Job]:
        """Jobs not yet finished (optionally of one server), oldest first."""
        return self._context.book.open_jobs(guild_id)

    def place_in_line(self, job_id: int) -> int | None:
        """1 for the next job to be released, and so on; None when not waiting."""
        return self._line.place_of(job_id)

    def estimate(self, job: Job) -> Eta | None:
        """When the job's video is likely posted; None when nobody waits for it any more."""
        return self._outlook.estimate(job)

    def remind_at(self, job_id: int, when: float) -> None:
        """Tell the observers of an open job again at `when` (a status card's estimate
        passes then); a later call replaces an earlier one."""
        self._outlook.remind_at(job_id, when)

    @property
    def eta_model(self) -> EtaModel:
        """What the estimates (and the adaptive poll schedule) have learned."""
        return self._context.eta

    def kept_per_job(self) -> dict[str, int]:
        """How many jobs each of the tracker's per-job records holds right now. Once no
        job is open and nothing is under way every count is 0: a tracker that runs for
        months must not keep anything for the jobs it is done with."""
        book = self._context.book
        return {
            "open_jobs": len(book),
            "job_locks": book.locks_in_use,
            "due_times": self._context.scheduler.jobs_due,
            "reminders": self._context.scheduler.reminders,
            "result_pending_streaks": self._watch.pending_streaks,
            "runs_counted": self._watch.runs_counted,
            **self._line.kept(),
        }

    # ------------------------------------------------------------ changing jobs

    async def annotate(self, job_id: int, **changes: Any) -> Job:
        """Record caller-owned facts (message ids, who deleted the video) on a job in any state."""
        return await self._context.book.annotate(job_id, **changes)

    async def cancel(self, job_id: int, *, by: int) -> CancelReport:
        """Cancel a job that has not started generating; says what really happened. A job
        another process holds is cancelled by that process (asked through the peers)."""
        return await self._stopping.cancel(job_id, by=by)

    async def abandon(
        self, *, guild_id: int | None = None, channel_id: int | None = None, failure: Failure
    ) -> int:
        """The bot left a server, or a channel is gone: cancel what is still free to cancel,
        stop its final messages and record why; returns how many jobs this process affected
        (see `JobStopping.abandon`)."""
        return await self._stopping.abandon(
            guild_id=guild_id, channel_id=channel_id, failure=failure
        )

    async def reachable_again(
        self, *, guild_id: int | None = None, channel_id: int | None = None
    ) -> None:
        """The bot is back in a server it left, or sees a channel again: new jobs there go
        ahead (in every process)."""
        await self._stopping.reachable_again(guild_id=guild_id, channel_id=channel_id)
