"""Who attends to a job when it comes due, and due times that end with the job.

The scheduler only says a job is due (`JobDue`); the job's state says whose turn it is: a
waiting job may leave the line, a finished job's final message is sent, a job at RunComfy
is polled, a job taken over while another process was sending it is looked at again.
Each action runs as the scheduler's task, one per job at a time. A closed job, or one
another process holds now, needs no more turns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.jobs.events import JobCommitted, JobDue, JobLetGo, LineMayMove
from bot.jobs.model import WATCHED_STATES, JobState, NoticeState, is_open
from bot.jobs.notices import NoticeSender
from bot.jobs.recovery import JobRecovery
from bot.jobs.watch import JobWatch
from bot.log_context import context_for

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext


class Dispatch:
    def __init__(
        self,
        context: TrackerContext,
        *,
        notices: NoticeSender,
        watch: JobWatch,
        recovery: JobRecovery,
    ) -> None:
        self._book = context.book
        self._scheduler = context.scheduler
        self._bus = context.bus
        self._notices = notices
        self._watch = watch
        self._recovery = recovery
        context.bus.subscribe(JobDue, self.on_job_due)
        context.bus.subscribe(JobCommitted, self.on_job_committed)
        context.bus.subscribe(JobLetGo, self.on_job_let_go)

    def on_job_due(self, event: JobDue) -> None:
        """Release the line, send the final message, poll RunComfy, or look again at a job
        another process was sending."""
        job = self._book.get(event.job_id)
        if job is None:
            return
        if job.state is JobState.WAITING:
            self._bus.publish(LineMayMove())
            return
        context = context_for(job_id=job.id, server_id=job.guild_id, request_id=job.request_id)
        if job.notice in (NoticeState.PENDING, NoticeState.SENDING):
            self._scheduler.run_for(job.id, self._notices.send, name="notice", context=context)
        elif job.state in WATCHED_STATES:
            self._scheduler.run_for(job.id, self._watch.poll, name="poll", context=context)
        elif job.state is JobState.SUBMITTING:
            self._scheduler.run_for(
                job.id, self._recovery.look_again, name="sent-elsewhere", context=context
            )

    def on_job_committed(self, event: JobCommitted) -> None:
        if not is_open(event.job):
            self._scheduler.forget(event.job.id)

    def on_job_let_go(self, event: JobLetGo) -> None:
        self._scheduler.forget(event.job_id)
