"""Whether RunComfy accepts the bot's API token, as the tracker last heard.

A refused token (401/403) is not a passing warning: new submits and new jobs stop, the
operator gets one ERROR a minute naming the setting to fix, and a free status call asks
now and then whether it works again (a successful poll says so too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.clock import Clock
from bot.jobs.runcomfy_side import RunComfySide
from bot.jobs.scheduler import Scheduler

log = logging.getLogger(__name__)


class TokenWatch:
    def __init__(
        self,
        runcomfy: RunComfySide,
        scheduler: Scheduler,
        *,
        clock: Clock,
        log_every: float,
        probe_every: float,
        waiting_jobs: Callable[[], int],
        works_again: Callable[[], None],
    ) -> None:
        """`works_again()` is called when a refused token is accepted again."""
        self._runcomfy = runcomfy
        self._scheduler = scheduler
        self._clock = clock
        self._log_every = log_every
        self._probe_every = probe_every
        self._waiting_jobs = waiting_jobs
        self._works_again = works_again
        self._refused_at: float | None = None
        self._logged_at = float("-inf")

    @property
    def refused(self) -> bool:
        return self._refused_at is not None

    def refusal(self) -> None:
        now = self._clock.now()
        if self._refused_at is None:
            self._refused_at = now
            self._scheduler.spawn(self._probe(), name="token-probe")
        if now - self._logged_at >= self._log_every:
            self._logged_at = now
            log.error(
                "RunComfy refuses the bot's API token: set a valid RUNCOMFY_API_TOKEN in .env "
                "and restart the bot. New videos are refused and %d jobs wait meanwhile.",
                self._waiting_jobs(),
            )

    def works(self) -> None:
        if self._refused_at is not None:
            log.warning("RunComfy accepts the bot's API token again")
            self._refused_at = None
            self._logged_at = float("-inf")
            self._works_again()

    async def _probe(self) -> None:
        while self._refused_at is not None:
            await self._clock.sleep(self._probe_every)
            if await self._runcomfy.token_works():
                self.works()
