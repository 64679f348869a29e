"""The final message's retry rule: what a job becomes after its notice was sent or failed.

Pure functions of the job and the settings, so the rule can be read and changed without
the scheduler in mind. A failure that may pass (Discord unreachable, 5xx) is retried with
capped exponential backoff; one that cannot (no permission, channel gone), or one past
the retry budget, ends the notice as failed, and a finished video as not delivered.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs.model import Job, JobState, NoticeState


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
