"""The final message: its retry rule, and the sender that follows it.

The rule is pure functions of the job and the settings, so it can be read and changed
without the scheduler in mind. A failure that may pass (Discord unreachable, 5xx) is retried with
capped exponential backoff; one that cannot (no permission, channel gone), or one past
the retry budget, ends the notice as failed, and a finished video as not delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.jobs.book import JobBook
from bot.jobs.model import Job, JobState, NoticeState
from bot.jobs.ports import NoticeError, Notifier
from bot.jobs.scheduler import Scheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NoticeRetry:
    retries: int = 8
    backoff: float = 5.0
    backoff_cap: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds before attempt `attempts + 1`."""
        return min(self.backoff * 2.0 ** (attempts - 1), self.backoff_cap)

    def gives_up(self, job: Job, *, retryable: bool) -> bool:
        return not retryable or job.notice_attempts > self.retries


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

    def __init__(
        self,
        book: JobBook,
        scheduler: Scheduler,
        *,
        clock: Clock,
        retry: NoticeRetry,
        notifier: Callable[[], Notifier | None],
    ) -> None:
        self._book = book
        self._scheduler = scheduler
        self._clock = clock
        self._retry = retry
        self._notifier = notifier

    async def send(self, job_id: int) -> None:
        notifier = self._notifier()
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
            job = await self._book.commit(attempting(job, now))
        try:
            message_id = await notifier.send_notice(job)
        except NoticeError as error:
            await self._failed(job, str(error), retryable=error.retryable)
            return
        except Exception as error:
            log.exception("job %d: sending its final message failed", job_id)
            await self._failed(job, f"unexpected error: {error}", retryable=True)
            return
        async with self._book.lock(job_id):
            await self._book.commit(sent(job, message_id, self._clock.now()))

    async def _failed(self, job: Job, reason: str, *, retryable: bool) -> None:
        retry = self._retry
        async with self._book.lock(job.id):
            if retry.gives_up(job, retryable=retryable):
                log.error("job %d: giving up on its final message: %s", job.id, reason)
            else:
                log.warning(
                    "job %d: final message failed (%s); retry in %.0fs",
                    job.id,
                    reason,
                    retry.delay(job.notice_attempts),
                )
            now = self._clock.now()
            await self._book.commit(failed(job, reason, now, retry=retry, retryable=retryable))
