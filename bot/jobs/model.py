"""The job: what was asked, by whom, and where it is in its life.

All state changes go through `Job.transition`, which checks them against one table,
records when each state was entered and returns a new immutable `Job`. The ids of
the requester, server, channel and messages are opaque numbers kept for the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.runcomfy.request import KlingRequest


class JobState(StrEnum):
    NEW = "new"
    """Persisted while the caller sets it up (e.g. posts its status message); not yet in line."""
    WAITING = "waiting"
    """In the local waiting line: nothing sent to RunComfy, nothing paid."""
    SUBMITTING = "submitting"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    """RunComfy finished it; the video is waiting to be delivered."""
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    """Finished at RunComfy, but the bot gave up posting it; the link is kept."""
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    """Past its deadline at RunComfy: the requester was told, the bot still watches it and
    delivers it (with a mention) if RunComfy finishes it after all."""
    SUBMISSION_UNKNOWN = "submission_unknown"
    """The submit's outcome is unknown; never resubmitted automatically."""

    @property
    def is_final(self) -> bool:
        """No further state change will happen to the job at RunComfy or here."""
        return self in FINAL_STATES

    @property
    def is_active(self) -> bool:
        """Holds a slot at RunComfy (counts against the active-job limits)."""
        return self in ACTIVE_STATES

    @property
    def is_cancellable(self) -> bool:
        """Not yet generating. A cancel during SUBMITTING waits for the submit to settle."""
        return self in (JobState.NEW, JobState.WAITING, JobState.SUBMITTING, JobState.QUEUED)

    @property
    def label(self) -> str:
        return _LABELS[self]


ACTIVE_STATES = frozenset({JobState.SUBMITTING, JobState.QUEUED, JobState.RUNNING})
LOCAL_STATES = frozenset({JobState.NEW, JobState.WAITING})
FINAL_STATES = frozenset(
    {
        JobState.DELIVERED,
        JobState.DELIVERY_FAILED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.SUBMISSION_UNKNOWN,
    }
)
WATCHED_STATES = frozenset({JobState.QUEUED, JobState.RUNNING, JobState.TIMED_OUT})
"""RunComfy has (or may have) the job: the bot keeps asking about it."""

_LABELS = {
    JobState.NEW: "Preparing",
    JobState.WAITING: "Waiting in line",
    JobState.SUBMITTING: "Sending to RunComfy",
    JobState.QUEUED: "Queued at RunComfy",
    JobState.RUNNING: "Generating",
    JobState.COMPLETED: "Finished, posting the video",
    JobState.DELIVERED: "Delivered",
    JobState.DELIVERY_FAILED: "Finished, but the video could not be posted",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
    JobState.TIMED_OUT: "Taking longer than expected",
    JobState.SUBMISSION_UNKNOWN: "Submission unknown",
}

ALLOWED_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    JobState.NEW: frozenset({JobState.WAITING, JobState.CANCELLED}),
    JobState.WAITING: frozenset({JobState.SUBMITTING, JobState.CANCELLED}),
    JobState.SUBMITTING: frozenset(
        {
            JobState.WAITING,  # RunComfy refused for now (429, outage): back in line, nothing paid
            JobState.QUEUED,
            JobState.RUNNING,
            JobState.FAILED,
            JobState.SUBMISSION_UNKNOWN,
        }
    ),
    JobState.QUEUED: frozenset(
        {
            JobState.RUNNING,
            JobState.COMPLETED,
            JobState.FAILED,
            JobState.CANCELLED,
            JobState.TIMED_OUT,
        }
    ),
    JobState.RUNNING: frozenset(
        {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT}
    ),
    JobState.COMPLETED: frozenset({JobState.DELIVERED, JobState.DELIVERY_FAILED}),
    JobState.DELIVERED: frozenset(),
    JobState.DELIVERY_FAILED: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.TIMED_OUT: frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED}),
    JobState.SUBMISSION_UNKNOWN: frozenset(),
}


class NoticeState(StrEnum):
    """The job's final message to its requester (the video, or why there is none)."""

    NOT_DUE = "not_due"
    PENDING = "pending"
    SENDING = "sending"
    """An attempt started; a crash here is resolved by the idempotent resend (nonce)."""
    SENT = "sent"
    FAILED = "failed"


class Failure(StrEnum):
    """Why a job ended without a video, or why it is back in line; `Job.failure_detail`
    carries what varies (RunComfy's own reason, the deadline's minutes). The Discord side
    words each of these for people; the jobs layer only names them."""

    RESTARTED_BEFORE_QUEUED = "restarted_before_queued"
    """Cancelled: nothing was sent or charged."""
    RESTARTED_WHILE_SUBMITTING = "restarted_while_submitting"
    SUBMIT_OUTCOME_UNKNOWN = "submit_outcome_unknown"
    TOKEN_REFUSED = "token_refused"
    OUT_OF_CREDIT = "out_of_credit"
    INPUT_REFUSED = "input_refused"
    """Detail: what RunComfy said was wrong."""
    RUNCOMFY_BUSY = "runcomfy_busy"
    """RunComfy kept answering 429 to the submit; nothing was sent or charged."""
    RUNCOMFY_DOWN = "runcomfy_down"
    """RunComfy kept failing the submit (detail: the error kind); nothing was charged."""
    RUNCOMFY_ERROR = "runcomfy_error"
    """Any other refusal of the submit (detail: the error kind)."""
    RETRYING = "retrying"
    """Not a failure: RunComfy refused the submit for now, the job waits to try again."""
    GENERATION_FAILED = "generation_failed"
    """Detail: RunComfy's reason, when it gave one."""
    CANCELLED_AT_RUNCOMFY = "cancelled_at_runcomfy"
    NO_VIDEO = "no_video"
    UNKNOWN_TO_RUNCOMFY = "unknown_to_runcomfy"
    DEADLINE_PASSED = "deadline_passed"
    """Detail: the deadline in minutes."""
    NOT_STARTED_BY_DEADLINE = "not_started_by_deadline"
    """Cancelled by the bot in RunComfy's queue, so nothing was charged. Detail: minutes."""
    TOKEN_REVOKED = "token_revoked"
    """A note on a job RunComfy has: it refuses the bot's token now; the job is kept."""
    SERVER_LEFT = "server_left"
    """The bot was removed from the server: what was free to cancel was cancelled."""
    CHANNEL_GONE = "channel_gone"
    """The job's channel was deleted or the bot lost access to it."""
    LEGACY = "legacy"
    """Written by an older version of the bot; the detail is its English text."""


def is_open(job: Job) -> bool:
    """Still needs the tracker: not final, or its final notice is not yet sent."""
    return job.state not in FINAL_STATES or job.notice in (
        NoticeState.PENDING,
        NoticeState.SENDING,
    )


class InvalidTransition(Exception):
    def __init__(self, job_id: int, current: JobState, target: JobState) -> None:
        self.job_id, self.current, self.target = job_id, current, target
        super().__init__(f"job {job_id}: {current.value} → {target.value} is not allowed")


@dataclass(frozen=True, slots=True)
class JobOrigin:
    """Who asked and where; opaque ids the caller uses to reach them again."""

    requester_id: int
    channel_id: int
    guild_id: int | None = None
    upload_limit: int | None = None
    """The largest attachment, in bytes, the destination accepts; kept for the late delivery."""
    active_limit: int | None = None
    """How many of the requester's jobs may be at RunComfy at once, when their own limit
    (a role tier) differs from their server's; None: the server's."""


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    state: JobState
    request: KlingRequest
    origin: JobOrigin
    created_at: float
    updated_at: float
    estimated_cost: Decimal
    state_times: Mapping[JobState, float] = field(default_factory=dict)
    request_id: str | None = None
    queue_position: int | None = None
    output_url: str | None = None
    cost: Decimal | None = None
    failure: Failure | None = None
    failure_detail: str | None = None
    status_message_id: int | None = None
    notice: NoticeState = NoticeState.NOT_DUE
    notice_attempts: int = 0
    notice_message_id: int | None = None
    notice_error: str | None = None
    deadline_at: float | None = None
    not_before: float | None = None
    """Earliest time of the next attempt (a resubmit after a refusal, a notice retry)."""
    submit_attempts: int = 0
    cancelled_by: int | None = None
    parent_id: int | None = None
    """The job this one re-rolls, if any."""
    locale: str | None = None
    """The language of the job's public messages, chosen by the caller (None: its default).
    This and the fields below are the caller's: the tracker keeps them but never reads them."""
    deleted_by: int | None = None
    """Who removed the posted video, if anyone."""
    deleted_at: float | None = None
    version: int = 0
    """How many times the job's row has been written. The store's, not the caller's: a
    write names the version it was made from and is refused once the row has moved on,
    so a stale copy can never overwrite a later state (see `JobStorage.save`)."""
    session_id: int | None = None
    """The prompt session this job is an entry of, decided when it was accepted."""

    @property
    def requester_id(self) -> int:
        return self.origin.requester_id

    @property
    def guild_id(self) -> int | None:
        return self.origin.guild_id

    @property
    def channel_id(self) -> int:
        return self.origin.channel_id

    def entered(self, state: JobState) -> float | None:
        return self.state_times.get(state)

    def transition(self, target: JobState, at: float, **changes: Any) -> Job:
        """The one place where a job changes state; raises InvalidTransition otherwise."""
        if target not in ALLOWED_TRANSITIONS[self.state]:
            raise InvalidTransition(self.id, self.state, target)
        times = dict(self.state_times)
        times[target] = at
        if target is not JobState.QUEUED:
            changes.setdefault("queue_position", None)
        return replace(self, state=target, updated_at=at, state_times=times, **changes)

    def update(self, at: float, **changes: Any) -> Job:
        """Change fields other than the state (queue position, message ids, notice)."""
        if "state" in changes or "state_times" in changes:
            raise ValueError("use transition() to change the state")
        return replace(self, updated_at=at, **changes)
