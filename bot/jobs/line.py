"""The local waiting line: who goes to RunComfy next, fairly.

Jobs wait here, unsubmitted and unpaid, while the active-job limits are full. They are
released round-robin across users: each user's k-th oldest waiting job belongs to
round k, and within a round the user who was served longest ago goes first, so one
person with ten prompts cannot take every slot of a 30-person session.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.jobs.model import Job
from bot.jobs.slots import MemberKey, SlotCounts


class LimitExceeded(Exception):
    """A new job was refused by a limit; its fields say which, for the wording."""


class NotTakingJobs(LimitExceeded):
    """No new jobs for now: the database refuses writes, or RunComfy refuses the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


STORE_REFUSING = "store_refusing"
TOKEN_REFUSED = "token_refused"


class TooManyJobs(LimitExceeded):
    """The member already has as many jobs running and waiting as they may."""

    def __init__(self, *, active: int, waiting: int, max_active: int, max_waiting: int) -> None:
        super().__init__(
            f"{active} active and {waiting} waiting; limits {max_active} and {max_waiting}"
        )
        self.active = active
        self.waiting = waiting
        self.max_active = max_active
        self.max_waiting = max_waiting


DEFAULT_PER_USER = 2
DEFAULT_PER_SERVER = 10


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """How many jobs of one server, and of one member in it, may be active at once."""

    per_user: int = DEFAULT_PER_USER
    per_server: int = DEFAULT_PER_SERVER


def line_order(waiting: Iterable[Job], last_served: Mapping[int, float]) -> list[Job]:
    """The waiting jobs in the order they will be released (when limits allow)."""
    by_user: dict[int, list[Job]] = defaultdict(list)
    for job in sorted(waiting, key=lambda job: job.id):
        by_user[job.requester_id].append(job)
    keyed: list[tuple[tuple[int, float, int], Job]] = []
    for user, jobs in by_user.items():
        served = last_served.get(user, -math.inf)
        for round_number, job in enumerate(jobs):
            keyed.append(((round_number, served, job.id), job))
    keyed.sort(key=lambda pair: pair[0])
    return [job for _, job in keyed]


def pick_releases(
    order: Iterable[Job],
    active: Iterable[Job],
    *,
    limits_for: Callable[[int | None], ServerLimits],
    total: int,
    now: float,
) -> list[Job]:
    """The jobs to submit now: the first in line that fit their server's limits and `total`
    (a job whose requester has a limit of their own, `JobOrigin.active_limit`, fits that)."""
    return pick_within(order, SlotCounts.of(active), limits_for=limits_for, total=total, now=now)


def pick_within(
    order: Iterable[Job],
    held: SlotCounts,
    *,
    limits_for: Callable[[int | None], ServerLimits],
    total: int,
    now: float,
    servers: int | None = None,
) -> list[Job]:
    """`pick_releases` with the slots already `held` counted (left as they are); with the
    number of `servers` the jobs in `order` come from, it stops once all are full."""
    by_user: Counter[MemberKey] = Counter()
    by_server: Counter[int | None] = Counter()
    running = held.running
    full: set[int | None] = set()
    """Servers with no slot left: a long line of one full server is passed over quickly."""
    picks: list[Job] = []
    for job in order:
        if running >= total:
            break
        guild_id = job.guild_id
        if guild_id in full or (job.not_before is not None and job.not_before > now):
            continue
        limits = limits_for(guild_id)
        if guild_id is not None and held.by_server[guild_id] + by_server[guild_id] >= (
            limits.per_server
        ):
            full.add(guild_id)
            if len(full) == servers:
                break
            continue
        member = (guild_id, job.requester_id)
        per_user = job.origin.active_limit or limits.per_user
        if held.by_member[member] + by_user[member] >= per_user:
            continue
        picks.append(job)
        by_user[member] += 1
        by_server[guild_id] += 1
        running += 1
    return picks
