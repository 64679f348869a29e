"""The final message: its retry rule, and the sender that follows it.

The rule is pure functions of the job and the settings, so it can be read and changed
without the scheduler in mind. A failure that may pass (Discord unreachable, 5xx) is
retried with exponential backoff up to a cap, for as long as it takes: a paid video
survives any Discord outage, and its message (which pings the requester) goes out once
Discord is back, also after a restart. A failure that cannot pass (no permission, the
channel is gone) ends the notice as failed, and a finished video as not delivered, with
the reason and the link kept on the job.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.jobs.events import JobCommitted
from bot.jobs.model import Job, JobState, NoticeState
from bot.jobs.ports import NoticeError, NoticeProblem, Notifier, notice_record

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NoticeRetry:
    retries: int = 8
    """Quick retries; after these the outage is logged as an ERROR, and waits are capped."""
    backoff: float = 5.0
    backoff_cap: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds before attempt `attempts + 1`."""
        return min(self.backoff * 2.0 ** (attempts - 1), self.backoff_cap)

    def gives_up(self, job: Job, *, retryable: bool) -> bool:
        """Only a failure that cannot pass ends the notice; an outage is waited out."""
        return not retryable

    def long_outage(self, job: Job) -> bool:
        """The quick retries are spent: worth one clear ERROR for the operator."""
        return job.notice_attempts == self.retries + 1


def attempting(job: Job, now: float) -> Job:
    return job.update(now, notice=NoticeState.SENDING, notice_attempts=job.notice_attempts + 1)


def sent(job: Job, message_id: int | None, now: float) -> Job:
    job = job.update(now, notice=NoticeState.SENT, notice_message_id=message_id, notice_error=None)
    if job.state is JobState.COMPLETED:
        job = job.transition(JobState.DELIVERED, now)
    return job


def failed(job: Job, reason: str, now: float, *, retry: NoticeRetry, retryable: bool) -> Job:
    if not retry.gives_up(job, retryable=retryable):
        return job.update(
            now,
            notice=NoticeState.PENDING,
            notice_error=reason,
            not_before=now + retry.delay(job.notice_attempts),
        )
    job = job.update(now, notice=NoticeState.FAILED, notice_error=reason)
    if job.state is JobState.COMPLETED:
        job = job.transition(JobState.DELIVERY_FAILED, now)
    return job


class NoticeSender:
    """Sends a finished job's final message through the notifier, by the rule above."""

    def __init__(self, context: TrackerContext, *, notifier: Notifier | None) -> None:
        self._book = context.book
        self._scheduler = context.scheduler
        self._clock = context.clock
        self._retry = context.settings.notice_retry
        self._notifier = notifier
        self._sending: set[asyncio.Task[Any]] = set()
        context.bus.subscribe(JobCommitted, self.on_job_committed)

    def set_notifier(self, notifier: Notifier | None) -> None:
        """Who posts final messages; None holds them (they wait, stored, for the next,
        and are all due at once when it comes)."""
        self._notifier = notifier
        if notifier is None:
            return
        now = self._clock.now()
        for job in self._book:
            if job.notice in (NoticeState.PENDING, NoticeState.SENDING):
                self._scheduler.at(job.id, now)

    def on_job_committed(self, event: JobCommitted) -> None:
        """A job's final message became due (at once, or after its retry's wait)."""
        previous, job = event.previous, event.job
        if job.notice is NoticeState.PENDING and (
            previous is None or previous.notice is not job.notice
        ):
            self._scheduler.at(job.id, job.not_before or self._clock.now())

    @property
    def in_flight(self) -> frozenset[asyncio.Task[Any]]:
        """The final messages on their way (closing lets them land)."""
        return frozenset(self._sending)

    async def send(self, job_id: int) -> None:
        task = asyncio.current_task()
        mine = {task} if task is not None else set()
        self._sending |= mine
        try:
            await self._send(job_id)
        finally:
            self._sending -= mine

    async def _send(self, job_id: int) -> None:
        notifier = self._notifier
        job = self._book.get(job_id)
        if notifier is None or job is None:
            return
        if job.notice not in (NoticeState.PENDING, NoticeState.SENDING):
            return
        now = self._clock.now()
        if job.not_before is not None and job.not_before > now:
            self._scheduler.at(job_id, job.not_before)
            return
        async with self._book.lock(job_id):
            job = self._book.get(job_id)
            if job is None or job.notice not in (NoticeState.PENDING, NoticeState.SENDING):
                return
            job = await self._book.commit(attempting(job, now))
        try:
            message_id = await notifier.send_notice(job)
        except NoticeError as error:
            await self._failed(job, str(error), retryable=error.retryable)
            return
        except Exception as error:
            log.exception("job %d: sending its final message failed", job_id)
            record = notice_record(NoticeProblem.UNEXPECTED, type(error).__name__)
            await self._failed(job, record, retryable=True)
            return
        async with self._book.lock(job_id):
            current = self._current(job)
            await self._book.commit(sent(current, message_id, self._clock.now()))

    def _current(self, job: Job) -> Job:
        """The job as it is now: a Delete or a message id recorded while the message was on
        its way must not be overwritten by the copy the send started with."""
        return self._book.get(job.id) or job

    async def _failed(self, job: Job, reason: str, *, retryable: bool) -> None:
        retry = self._retry
        async with self._book.lock(job.id):
            job = self._current(job)
            if retry.gives_up(job, retryable=retryable):
                log.warning(
                    "job %d: its final message cannot be sent (%s); recorded on the job",
                    job.id,
                    reason,
                )
            elif retry.long_outage(job):
                log.error(
                    "job %d: Discord has refused its final message %d times (%s); the bot keeps "
                    "trying every %.0f s and will mention the requester when it lands",
                    job.id,
                    job.notice_attempts,
                    reason,
                    retry.backoff_cap,
                )
            else:
                log.warning(
                    "job %d: final message failed (%s); retry in %.0fs",
                    job.id,
                    reason,
                    retry.delay(job.notice_attempts),
                )
            now = self._clock.now()
            await self._book.commit(failed(job, reason, now, retry=retry, retryable=retryable))
