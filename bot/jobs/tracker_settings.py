"""Every limit, delay and retry count of the job tracker, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.jobs.line import ServerLimits
from bot.jobs.notices import NoticeRetry


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """Delays are in clock seconds unless they say otherwise.

    The defaults of `max_active_total`, `max_waiting_per_user` and `deadline_seconds` are
    also those of MAX_ACTIVE_JOBS_TOTAL, MAX_WAITING_JOBS_PER_USER and JOB_DEADLINE_MINUTES:
    the table of settings (`bot.config.table`) takes them from here."""

    limits: ServerLimits = field(default_factory=ServerLimits)
    """Per-server limits for servers without their own (see `limits_for`)."""
    max_active_total: int = 50
    max_waiting_per_user: int = 5
    deadline_seconds: float = 30 * 60
    submit_retries: int = 3
    """How often a submit refused by an outage (5xx, no connection) is tried again."""
    rate_limited_submit_retries: int = 10
    submit_backoff: float = 10.0
    first_poll_within: float = 2.0
    """The first poll after a submit comes at most this soon (a queue may be empty)."""
    poll_error_delay: float = 15.0
    result_pending_delay: float = 1.0
    """When the status says completed but the result does not have the video yet."""
    notice_retries: int = 8
    notice_backoff: float = 5.0
    notice_backoff_cap: float = 300.0
    crash_retry_delay: float = 60.0
    """A job whose action crashed unexpectedly comes due again after this long."""
    store_retry_delay: float = 5.0
    """A job whose change the database refused is tried again after this long."""
    store_retry_cap: float = 60.0
    """Retries of a refused write after a paid submit back off up to this long."""
    room_retry_delay: float = 2.0
    """A released job the database found no room for (other processes' jobs at RunComfy
    fill a limit) waits this long before it is tried again."""
    peer_timeout: float = 5.0
    """Real seconds to wait for the process holding a job to answer (a Cancel pressed in
    another process); no answer means it could not be reached."""
    claim_batch: int = 500
    """Most jobs taken over from other processes at one renewal of the leases."""
    late_poll_interval: float = 60.0
    """How often a job past its deadline is still asked about (it may yet finish)."""
    result_pending_cap: float = 60.0
    """Longest wait between polls while the status says done but the result does not."""
    token_log_every: float = 60.0
    """A refused RunComfy token is logged as an ERROR at most this often."""
    token_probe_interval: float = 300.0
    """How often the bot asks whether a refused token works again."""
    history_runs: int = 200
    """Finished runs read back at start-up to teach the poll policy."""
    shutdown_grace: float = 20.0
    """Real seconds to let submits and final messages (the video on its way) under way
    finish on shutdown, so neither is cut off (STOP_GRACE_SECONDS)."""
    submit_timeout: float = 40.0
    """Real seconds a submit can take at most: the RunComfy client's connect and read
    timeouts together (it ends a longer one as unknown)."""
    submit_record_grace: float = 30.0
    """Real seconds the process that sent a submit may take to record RunComfy's answer."""
    submit_recheck: float = 5.0
    """How often a job taken over while another process was sending it is read again, for
    the request id that process may leave on it."""

    @property
    def submit_window(self) -> float:
        """Real seconds after a job was marked as being sent before no process can still
        be sending it, or be about to record RunComfy's answer."""
        return self.submit_timeout + self.submit_record_grace

    @property
    def notice_retry(self) -> NoticeRetry:
        return NoticeRetry(self.notice_retries, self.notice_backoff, self.notice_backoff_cap)
