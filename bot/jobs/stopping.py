"""Stopping jobs before they cost anything: a member's Cancel, and the bot leaving a server
or losing a channel. Only the process holding a job acts on it; a job another process
holds is stopped by that process, asked through the peers (see `bot.jobs.peers`).

A departure is recorded (`Departures`) before any job is stopped, in every process that
hears of it: until the jobs there are stopped, no submit for them goes out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.jobs.departures import Departures, abandoned
from bot.jobs.events import DestinationLost
from bot.jobs.leases import LeaseLost
from bot.jobs.model import LOCAL_STATES, Failure, Job, JobState, NoticeState, is_open
from bot.jobs.peers import JobPeers, Message
from bot.jobs.ports import StoreError
from bot.jobs.runcomfy_side import Cancelled
from bot.jobs.watch import JobWatch
from bot.runcomfy.errors import ErrorKind

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

log = logging.getLogger(__name__)


class CancelOutcomeKind(StrEnum):
    CANCELLED = "cancelled"
    ALREADY_RUNNING = "already_running"
    ALREADY_FINISHED = "already_finished"
    NOT_FOUND = "not_found"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class CancelReport:
    outcome: CancelOutcomeKind
    job: Job | None
    problem: ErrorKind | None = None
    """Why RunComfy could not be asked (UNREACHABLE), when known."""


class JobStopping:
    def __init__(
        self,
        context: TrackerContext,
        *,
        watch: JobWatch,
        peers: JobPeers,
        shared: bool,
        departures: Departures,
    ) -> None:
        """`shared`: other processes hold some of the jobs (reached through `peers`);
        `departures` keeps where jobs can no longer go."""
        self._book = context.book
        self._runcomfy = context.runcomfy
        self._scheduler = context.scheduler
        self._clock = context.clock
        self._policy = context.policy
        self._peer_timeout = context.settings.peer_timeout
        self._watch = watch
        self._peers = peers
        self._shared = shared
        self._departures = departures
        context.bus.subscribe(DestinationLost, self.on_destination_lost)

    def on_destination_lost(self, event: DestinationLost) -> None:
        """Stop the other jobs there too, in every process (a job being submitted waits
        for its own submit to stop it first)."""
        self._scheduler.spawn(self._stop_lost(event), name=f"abandon-{event.failure}")

    async def _stop_lost(self, event: DestinationLost) -> None:
        where = {"guild_id": event.guild_id, "channel_id": event.channel_id}
        log.warning(
            "the Discord side says %s is gone (%s); stopping its jobs", where, event.failure
        )
        try:
            await self.abandon(**where, failure=event.failure)
        except (StoreError, LeaseLost) as error:
            log.warning("could not stop every job there (each is stopped at its turn): %s", error)

    async def cancel(self, job_id: int, *, by: int) -> CancelReport:
        """Cancel a job that has not started generating; says what really happened. A job
        another process holds is cancelled by that process (asked through the peers)."""
        if self._book.get(job_id) is None and self._shared:
            job = await self._book.store.get(job_id)
            if job is not None and is_open(job):
                return await self._cancel_elsewhere(job, by)
        return await self.cancel_here(job_id, by)

    async def _cancel_elsewhere(self, job: Job, by: int) -> CancelReport:
        request: Message = {"action": "cancel", "job": job.id, "by": by}
        try:
            answer = await self._peers.ask(request, within=self._peer_timeout)
        except StoreError:
            answer = None
        if answer is None:
            return CancelReport(CancelOutcomeKind.UNREACHABLE, job)
        problem = answer.get("problem")
        return CancelReport(
            CancelOutcomeKind(answer["outcome"]),
            await self._book.fetch(job.id) or job,
            None if problem is None else ErrorKind(problem),
        )

    async def answer(self, message: Message) -> Message | None:
        """A peer asks this process to act on jobs it holds."""
        match message.get("action"):
            case "cancel":
                job_id = int(message["job"])
                if self._book.get(job_id) is None:
                    return None
                report = await self.cancel_here(job_id, int(message["by"]))
                problem = None if report.problem is None else report.problem.value
                return {"outcome": report.outcome.value, "problem": problem}
            case "abandon":
                await self.abandon_here(
                    guild_id=message.get("guild"),
                    channel_id=message.get("channel"),
                    failure=Failure(message["failure"]),
                )
            case "back":
                self._departures.forget(
                    guild_id=message.get("guild"), channel_id=message.get("channel")
                )
        return None

    async def cancel_here(self, job_id: int, by: int) -> CancelReport:
        async with self._book.lock(job_id):
            job = await self._book.fetch(job_id)
            if job is None:
                return CancelReport(CancelOutcomeKind.NOT_FOUND, None)
            if job.state in LOCAL_STATES:
                return CancelReport(CancelOutcomeKind.CANCELLED, await self._cancelled(job, by))
            if job.state is JobState.RUNNING:
                return CancelReport(CancelOutcomeKind.ALREADY_RUNNING, job)
            if job.state is not JobState.QUEUED:
                return CancelReport(CancelOutcomeKind.ALREADY_FINISHED, job)
            assert job.request_id is not None
            verdict = await self._runcomfy.cancel(job.request_id)
            now = self._clock.now()
            match verdict.outcome:
                case Cancelled.CANCELLED:
                    return CancelReport(CancelOutcomeKind.CANCELLED, await self._cancelled(job, by))
                case Cancelled.UNREACHABLE | Cancelled.NOT_CONFIRMED:
                    return CancelReport(CancelOutcomeKind.UNREACHABLE, job, verdict.problem)
                case Cancelled.FINISHED:
                    self._scheduler.at(job.id, now)
                    return CancelReport(CancelOutcomeKind.ALREADY_FINISHED, job)
            job = await self._book.commit(job.transition(JobState.RUNNING, now))
            self._watch.poll_after(job, self._policy.next_delay(job, now))
            return CancelReport(CancelOutcomeKind.ALREADY_RUNNING, job)

    async def _cancelled(self, job: Job, by: int) -> Job:
        return await self._book.commit(
            job.transition(
                JobState.CANCELLED, self._clock.now(), cancelled_by=by, notice=NoticeState.PENDING
            )
        )

    async def abandon(
        self, *, guild_id: int | None = None, channel_id: int | None = None, failure: Failure
    ) -> int:
        """The bot left a server, or a channel is gone: cancel what is still free to cancel
        (waiting in line, queued at RunComfy), stop its final messages, and record why on
        every affected job. Jobs already generating are paid: they are still watched, and
        their delivery fails with the reason kept. Processes sharing the jobs do the same
        for theirs. Returns how many jobs this process affected."""
        self._departures.record(guild_id=guild_id, channel_id=channel_id, failure=failure)
        if self._shared:
            request: Message = {"action": "abandon", "failure": failure.value}
            request |= {"guild": guild_id, "channel": channel_id}
            try:
                await self._peers.tell(request)
            except StoreError as error:
                log.warning("could not tell other processes to stop (%s): %s", failure, error)
        return await self.abandon_here(guild_id=guild_id, channel_id=channel_id, failure=failure)

    async def reachable_again(self, *, guild_id: int | None, channel_id: int | None) -> None:
        """The bot is back in a server it left, or sees a channel again: its new jobs go
        ahead, in every process."""
        self._departures.forget(guild_id=guild_id, channel_id=channel_id)
        if self._shared:
            try:
                await self._peers.tell({"action": "back", "guild": guild_id, "channel": channel_id})
            except StoreError as error:
                log.warning("could not tell other processes the bot is back: %s", error)

    async def abandon_here(
        self, *, guild_id: int | None, channel_id: int | None, failure: Failure
    ) -> int:
        self._departures.record(guild_id=guild_id, channel_id=channel_id, failure=failure)
        affected = [
            job
            for job in self._book
            if (not job.state.is_final and (guild_id is not None and job.guild_id == guild_id))
            or (channel_id is not None and job.channel_id == channel_id)
        ]
        for job in affected:
            await self._abandon_one(job.id, failure)
        if affected:
            log.warning("%d jobs affected: %s", len(affected), failure)
        return len(affected)

    async def _abandon_one(self, job_id: int, failure: Failure) -> None:
        async with self._book.lock(job_id):
            job = self._book.get(job_id)
            if job is None:
                return
            now = self._clock.now()
            free = job.state in LOCAL_STATES
            if job.state is JobState.QUEUED and job.request_id is not None:
                verdict = await self._runcomfy.cancel(job.request_id)
                free = verdict.outcome is Cancelled.CANCELLED
            unreachable = {"notice": NoticeState.FAILED, "notice_error": failure.value}
            if free:
                await self._book.commit(abandoned(job, failure, now))
            elif job.state.is_final:
                await self._book.commit(job.update(now, **unreachable))
            else:
                await self._book.commit(job.update(now, failure=failure))
