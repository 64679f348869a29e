"""Sending a released job to RunComfy, once: what its answer means, and when a refusal
that clearly cost nothing puts it back in line to try again.

Once RunComfy has answered, its answer is recorded whatever it takes: a database that
refuses the write is retried with backoff until it takes it (the request id is logged at
once, so even a crash meanwhile leaves the operator a way to the video). A database that
refuses the first write (before anything is sent) just holds the job back in line.

A job whose server or channel is gone is stopped instead of sent (see `bot.jobs.departures`):
asked before its turn at RunComfy's gate, and again with the gate's slot held."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.jobs.departures import Departed, Departures
from bot.jobs.events import HeldBack, JobReleased, SubmitSettled, TokenRefused
from bot.jobs.leases import LeaseLost, NoRoom
from bot.jobs.model import Failure, Job, JobState, NoticeState
from bot.jobs.ports import StoreError
from bot.jobs.runcomfy_side import Accepted, Refused
from bot.log_context import bind, context_for
from bot.runcomfy.errors import ErrorKind

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

log = logging.getLogger(__name__)


class _Stopped(Exception):
    """The tracker is closing: this submit is not sent."""


class Submission:
    """Says `SubmitSettled` when a submit is over, whatever its outcome; `HeldBack` when a
    job goes back in line without being sent; `TokenRefused` when RunComfy refused the
    bot's token."""

    def __init__(self, context: TrackerContext, *, departures: Departures) -> None:
        self._context = context
        self._departures = departures
        self._book = context.book
        self._runcomfy = context.runcomfy
        self._scheduler = context.scheduler
        self._clock = context.clock
        self._policy = context.policy
        self._settings = context.settings
        self._bus = context.bus
        self._going_out: set[asyncio.Task[Any]] = set()
        self._stopped = False
        context.bus.subscribe(JobReleased, self.on_job_released)

    def on_job_released(self, event: JobReleased) -> None:
        job_id = event.job.id
        context = context_for(job_id=job_id, server_id=event.job.guild_id)
        self._scheduler.spawn(self.submit(job_id), name=f"submit-{job_id}", context=context)

    @property
    def in_flight(self) -> frozenset[asyncio.Task[Any]]:
        """The submits on their way to RunComfy (closing lets them settle, so none is left
        "may have been sent"); one still waiting for its turn at RunComfy's gate is not."""
        return frozenset(self._going_out)

    def stop_sending(self) -> None:
        """Closing: a submit that has not gone out yet is not sent; its job stays in line
        (it is stored as waiting)."""
        self._stopped = True

    def _hold(self, job_id: int, delay: float) -> None:
        self._bus.publish(HeldBack(job_id, self._clock.now() + delay))

    async def submit(self, job_id: int) -> None:
        task = asyncio.current_task()
        mine = {task} if task is not None else set()
        try:
            async with self._book.lock(job_id):
                waiting = self._book.get(job_id)
                if waiting is None or waiting.state is not JobState.WAITING:
                    return
                sending: list[Job] = []

                async def record_sending() -> None:
                    if self._stopped:
                        raise _Stopped
                    self._departures.refuse(waiting)
                    self._going_out.update(mine)
                    sending.append(await self._sending(waiting))

                try:
                    gone = await self._departures.lost(waiting)
                    if gone is not None:
                        raise Departed(gone)
                    verdict = await self._runcomfy.submit(
                        waiting.request, before_sending=record_sending
                    )
                except Departed as departed:
                    await self._stop(waiting, departed)
                    return
                except StoreError:
                    self._hold(job_id, self._settings.store_retry_delay)
                    return
                except NoRoom:
                    self._hold(job_id, self._settings.room_retry_delay)
                    return
                except _Stopped:
                    return
                if not sending:
                    log.error("job %d: RunComfy's client never got to send it", job_id)
                    self._hold(job_id, self._settings.store_retry_delay)
                    return
                job = sending[0]
                if isinstance(verdict, Accepted):
                    await self._queued(job, verdict.request_id)
                else:
                    await self._refused(job, verdict)
        except asyncio.CancelledError:
            raise
        except LeaseLost:
            return
        except Exception:
            log.exception("job %d: submit failed unexpectedly", job_id)
        finally:
            self._going_out -= mine
            self._bus.publish(SubmitSettled(job_id))

    async def _stop(self, job: Job, departed: Departed) -> None:
        log.info("job %d: not sent, its destination is gone (%s)", job.id, departed.failure)
        try:
            await self._departures.stop(job, departed.failure)
        except StoreError:
            self._hold(job.id, self._settings.store_retry_delay)

    async def _sending(self, job: Job) -> Job:
        """Record that the job is being sent, once it has its turn at RunComfy's gate (so a
        crash while it only waited there leaves it waiting, not "may have been sent"), and
        only if the jobs at RunComfy across every process leave room for it."""
        now = self._clock.now()
        return await self._book.commit(
            job.transition(
                JobState.SUBMITTING,
                now,
                submit_attempts=job.submit_attempts + 1,
                deadline_at=now + self._settings.deadline_seconds,
                not_before=None,
                failure=None,
                failure_detail=None,
            ),
            room=self._context.room_for(job),
        )

    async def _queued(self, job: Job, request_id: str) -> None:
        bind(request_id=request_id)
        log.info("job %d submitted as %s", job.id, request_id)
        now = self._clock.now()
        try:
            job = await self._record(
                job.transition(JobState.QUEUED, now, request_id=request_id),
                f"RunComfy accepted it as {request_id}",
            )
        except LeaseLost:
            await self._leave_request_id(job.id, request_id)
            return
        first = min(self._settings.first_poll_within, self._policy.next_delay(job, now))
        self._scheduler.at(job.id, now + first)

    async def _leave_request_id(self, job_id: int, request_id: str) -> None:
        """Another process took the job over while RunComfy was taking it: leave the
        request id on its row (retried like any record of a paid answer), where the new
        holder finds it and carries on from it (see `JobRecovery`)."""
        delay = self._settings.store_retry_delay
        while True:
            try:
                left = await self._book.store.leave_request_id(job_id, request_id)
                break
            except StoreError:
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._settings.store_retry_cap)
        if left:
            log.warning(
                "job %d: another process took it over while RunComfy accepted it as %s; "
                "left the request id for that process to carry on",
                job_id,
                request_id,
            )
        else:
            log.error(
                "job %d: RunComfy accepted it as %s, but another process settled it first; "
                "the video is at RunComfy under that request id",
                job_id,
                request_id,
            )

    async def _record(self, job: Job, what: str) -> Job:
        """Commit a change that RunComfy's answer makes true, retrying a refusing database
        with backoff until it lands: forgetting it could mean paying twice."""
        delay = self._settings.store_retry_delay
        told = False
        while True:
            try:
                return await self._book.commit(job)
            except StoreError:
                if not told:
                    log.error(
                        "job %d: %s, but the database refused to record it; retrying until it does",
                        job.id,
                        what,
                    )
                    told = True
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._settings.store_retry_cap)

    async def _refused(self, job: Job, verdict: Refused) -> None:
        settings = self._settings
        attempts = job.submit_attempts
        if verdict.retry_kind is ErrorKind.RATE_LIMITED:
            if attempts <= settings.rate_limited_submit_retries:
                delay = verdict.retry_after or settings.submit_backoff * attempts
                await self._back_in_line(job, delay, verdict.retry_kind)
                return
        elif verdict.retry_kind is not None and attempts <= settings.submit_retries:
            await self._back_in_line(
                job, settings.submit_backoff * 2 ** (attempts - 1), verdict.retry_kind
            )
            return
        if verdict.failure is Failure.TOKEN_REFUSED:
            self._bus.publish(TokenRefused())
        state = (
            JobState.SUBMISSION_UNKNOWN
            if verdict.failure is Failure.SUBMIT_OUTCOME_UNKNOWN
            else JobState.FAILED
        )
        now = self._clock.now()
        await self._record(
            job.transition(
                state,
                now,
                failure=verdict.failure,
                failure_detail=verdict.detail,
                notice=NoticeState.PENDING,
            ),
            f"RunComfy did not take it ({verdict.failure})",
        )

    async def _back_in_line(self, job: Job, delay: float, kind: ErrorKind) -> None:
        now = self._clock.now()
        log.warning(
            "job %d: RunComfy refused the submit (%s); retrying in %.0fs", job.id, kind, delay
        )
        await self._record(
            job.transition(
                JobState.WAITING,
                now,
                not_before=now + delay,
                deadline_at=None,
                failure=Failure.RETRYING,
                failure_detail=kind.value,
            ),
            "RunComfy refused it for now",
        )
