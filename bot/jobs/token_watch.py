"""Whether RunComfy accepts the bot's API token, as the tracker last heard.

A refused token (401/403) is not a passing warning: new submits and new jobs stop, the
operator gets one ERROR a minute naming the setting to fix, and a free status call asks
now and then whether it works again (a successful poll says so too).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.jobs.events import LineMayMove, TokenRefused, TokenWorks

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

log = logging.getLogger(__name__)


class TokenWatch:
    def __init__(self, context: TrackerContext) -> None:
        self._book = context.book
        self._runcomfy = context.runcomfy
        self._scheduler = context.scheduler
        self._clock = context.clock
        self._bus = context.bus
        self._log_every = context.settings.token_log_every
        self._probe_every = context.settings.token_probe_interval
        self._refused_at: float | None = None
        self._logged_at = float("-inf")
        context.bus.subscribe(TokenRefused, self.on_token_refused)
        context.bus.subscribe(TokenWorks, self.on_token_works)

    @property
    def refused(self) -> bool:
        return self._refused_at is not None

    def on_token_refused(self, event: TokenRefused) -> None:
        now = self._clock.now()
        if self._refused_at is None:
            self._refused_at = now
            self._scheduler.spawn(self._probe(), name="token-probe")
        if now - self._logged_at >= self._log_every:
            self._logged_at = now
            log.error(
                "RunComfy refuses the bot's API token: set a valid RUNCOMFY_API_TOKEN in .env "
                "and restart the bot. New videos are refused and %d jobs wait meanwhile.",
                len(self._book),
            )

    def on_token_works(self, event: TokenWorks) -> None:
        """A refused token works again: the line, held while it was refused, may move."""
        if self._refused_at is not None:
            log.warning("RunComfy accepts the bot's API token again")
            self._refused_at = None
            self._logged_at = float("-inf")
            self._bus.publish(LineMayMove())

    async def _probe(self) -> None:
        while self._refused_at is not None:
            await self._clock.sleep(self._probe_every)
            if await self._runcomfy.token_works():
                self._bus.publish(TokenWorks())
