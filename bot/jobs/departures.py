"""Where jobs can no longer go: servers the bot left, channels deleted or out of its sight.

Nothing of a job whose server or channel is gone is sent to RunComfy: nobody could be
shown the video, and it would still be paid for. Two things tell, and a submit asks both:

- What the Discord side reported (`JobTracker.abandon`), here or in another process
  through the peers. It is recorded before anything else is done about it, and checked
  with RunComfy's gate slot held, right before the submit goes out: stopping the jobs there
  takes a while (each queued one is cancelled at RunComfy in turn), and meanwhile the line
  hands out the slots those cancels free. The record only has to bridge until those jobs
  are stopped, so it is bounded in size and in age.
- The Discord side's own answer (`Destinations`), asked before the job takes its turn at
  the gate. It knows what this process's gateway says, and asks Discord about the rest: a
  server on another process's shard (whose event went to that process, or to nobody while
  it was down), or every server before the gateway is ready after a restart.

A job either of them refuses is stopped where it stands, free of charge, as if it had
been abandoned with the others. When it is the Discord side that says so, the departure
is recorded and said (`DestinationLost`): the other jobs there are then stopped too.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

from bot.jobs.events import DestinationLost
from bot.jobs.model import Failure, Job, JobState, NoticeState

if TYPE_CHECKING:
    from bot.jobs.context import TrackerContext

KEEP_FOR = 3600.0
"""Clock seconds a reported departure is remembered (the jobs there are long stopped)."""
CAPACITY = 10_000
"""Departures remembered at most; the oldest go first."""


class Destinations(Protocol):
    """Whether a job's server and channel can still be reached; the Discord side knows."""

    async def lost(self, guild_id: int | None, channel_id: int) -> Failure | None:
        """`SERVER_LEFT` or `CHANNEL_GONE` when the job's server or channel cannot be
        reached any more; None when it can, or when that cannot be told now (a job is
        never stopped on a guess). Answers within a few seconds."""


class Reachable:
    """No Discord side to ask (tests, the command line): every destination is reachable."""

    async def lost(self, guild_id: int | None, channel_id: int) -> Failure | None:
        return None


class Departed(Exception):
    """Raised at RunComfy's gate: the job's server or channel is gone; nothing was sent."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.value)
        self.failure = failure


def abandoned(job: Job, failure: Failure, at: float) -> Job:
    """A job stopped before it cost anything because its server or channel is gone: there
    is nowhere to post a final message."""
    return job.transition(
        JobState.CANCELLED,
        at,
        failure=failure,
        notice=NoticeState.FAILED,
        notice_error=failure.value,
    )


class Departures:
    def __init__(
        self,
        context: TrackerContext,
        destinations: Destinations,
        *,
        keep_for: float = KEEP_FOR,
        capacity: int = CAPACITY,
    ) -> None:
        self._book = context.book
        self._clock = context.clock
        self._bus = context.bus
        self._destinations = destinations
        self._keep_for = keep_for
        self._capacity = capacity
        self._gone: OrderedDict[tuple[str, int], tuple[Failure, float]] = OrderedDict()
        """("guild" | "channel", id) → why, and until when (this process's monotonic clock)."""

    def __len__(self) -> int:
        return len(self._gone)

    def record(self, *, guild_id: int | None, channel_id: int | None, failure: Failure) -> None:
        until = self._clock.monotonic() + self._keep_for
        for key in _keys(guild_id, channel_id):
            self._gone.pop(key, None)
            self._gone[key] = (failure, until)
        while len(self._gone) > self._capacity:
            self._gone.popitem(last=False)

    def forget(self, *, guild_id: int | None, channel_id: int | None) -> None:
        """The bot is back in the server, or sees the channel again."""
        for key in _keys(guild_id, channel_id):
            self._gone.pop(key, None)

    def known(self, job: Job) -> Failure | None:
        """Why the job's server or channel is gone, as reported; None if it is not."""
        now = self._clock.monotonic()
        while self._gone:
            key, (_, until) = next(iter(self._gone.items()))
            if until > now:
                break
            del self._gone[key]
        for key in _keys(job.guild_id, job.channel_id):
            entry = self._gone.get(key)
            if entry is not None and entry[1] > now:
                return entry[0]
        return None

    def refuse(self, job: Job) -> None:
        """At RunComfy's gate: raise `Departed` if the job's server or channel is gone."""
        failure = self.known(job)
        if failure is not None:
            raise Departed(failure)

    async def lost(self, job: Job) -> Failure | None:
        """Why the job's server or channel is gone, as reported or as the Discord side says."""
        known = self.known(job)
        if known is not None:
            return known
        failure = await self._destinations.lost(job.guild_id, job.channel_id)
        if failure is None:
            return None
        server = failure is Failure.SERVER_LEFT
        guild_id, channel_id = (job.guild_id, None) if server else (None, job.channel_id)
        if self.known(job) is None:
            self.record(guild_id=guild_id, channel_id=channel_id, failure=failure)
            self._bus.publish(DestinationLost(guild_id, channel_id, failure))
        return failure

    async def stop(self, job: Job, failure: Failure) -> Job:
        """Stop a job still waiting (the caller holds its lock): nothing was sent."""
        return await self._book.commit(abandoned(job, failure, self._clock.now()))


def _keys(guild_id: int | None, channel_id: int | None) -> list[tuple[str, int]]:
    keys = [] if guild_id is None else [("guild", guild_id)]
    return keys + ([] if channel_id is None else [("channel", channel_id)])
