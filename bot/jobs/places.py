"""The waiting line in release order, kept between releases, and each job's place in it.

The line is kept sorted by `line_order`'s key (round, when the member was last served,
id), also per server and per member, so a job's place and the jobs ahead of it for each
limit are a binary search away and each change is put in where it belongs: a job
joining as its requester's newest (a new command), a job leaving (sent, cancelled), a
member served (their other jobs go back). Nothing there sorts the whole line or works
out every job's place again: with a thousand jobs waiting, doing that for each new
command and each freed slot is what kept a busy bot from answering the next command at
once. Only what cannot be put in that way (a refused submit coming back to the line, the
first release after a restart) sorts it again (`rebuild`).

A waiting job's card is brought back when it joins the line and when its place moved by
a fifth of the place last brought back or more (or within the first five): its estimate
moves with its place, and re-estimating every waiting job whenever one leaves the line
is what stalled a bot holding a thousand of them. Finding those looks only at the part
of the line behind the first change.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.jobs.line import line_order
from bot.jobs.model import Job
from bot.jobs.slots import MemberKey

SHOWN_AGAIN_WITHIN = 5
"""Places up to which every move brings a waiting job's card back."""
SHOWN_AGAIN_SHARE = 0.2
"""Beyond them, the share of the place last shown by which it must have moved."""

_Key = tuple[int, float, int]
"""A waiting job's sort key in `line_order`: (its round, when its requester was last
served, its id)."""
_UNCHANGED = 1 << 62


@dataclass(frozen=True, slots=True)
class Place:
    """A waiting job's place and how many jobs ahead of it wait on its member's and its
    server's slots (every job ahead waits on the total's)."""

    place: int
    member_ahead: int
    server_ahead: int


class LinePlaces:
    def __init__(self) -> None:
        self.order: list[int] = []
        """The ids of the waiting jobs in the order they will be released."""
        self._keys: list[_Key] = []
        """`order`'s keys, sorted."""
        self._key_of: dict[int, _Key] = {}
        self._member_of: dict[int, MemberKey] = {}
        self._by_user: dict[int, list[int]] = {}
        """Each requester's jobs in line, oldest first (a job's index is its round)."""
        self._server_keys: dict[int | None, list[_Key]] = {}
        self._member_keys: dict[MemberKey, list[_Key]] = {}
        self._shown: dict[int, int] = {}
        """The place each job's card was last brought back with."""
        self._changed_from = _UNCHANGED
        """The first index of `order` that moved since `moved` last looked."""

    def __len__(self) -> int:
        return len(self.order)

    @property
    def servers(self) -> int:
        """How many servers (counting no server as one) have jobs in line."""
        return len(self._server_keys)

    def get(self, job_id: int) -> Place | None:
        key = self._key_of.get(job_id)
        if key is None:
            return None
        member = self._member_of[job_id]
        return Place(
            bisect_left(self._keys, key) + 1,
            bisect_left(self._member_keys[member], key),
            bisect_left(self._server_keys[member[0]], key),
        )

    def join(self, job: Job, last_served: Mapping[int, float]) -> bool:
        """Take in a job joining the line as its requester's newest; False (nothing
        done) when it is not (then the line must be rebuilt)."""
        user = job.requester_id
        mine = self._by_user.setdefault(user, [])
        if job.id in self._key_of or (mine and job.id <= mine[-1]):
            return False
        mine.append(job.id)
        key = (len(mine) - 1, last_served.get(user, -math.inf), job.id)
        self._insert(job.id, (job.guild_id, user), key)
        return True

    def leave(self, job_id: int, last_served: Mapping[int, float]) -> None:
        """The job left the line, or its requester was just served (`last_served` says
        when): their other jobs move back (a round earlier, served later)."""
        member = self._member_of.get(job_id)
        if member is None:
            return
        self._remove(job_id)
        self._shown.pop(job_id, None)
        user = member[1]
        mine = self._by_user[user]
        mine.remove(job_id)
        if not mine:
            del self._by_user[user]
        served = last_served.get(user, -math.inf)
        for round_number, other in enumerate(mine):
            key = (round_number, served, other)
            if self._key_of[other] != key:
                other_member = self._remove(other)
                self._insert(other, other_member, key)

    def rebuild(self, waiting: Iterable[Job], last_served: Mapping[int, float]) -> None:
        """Sort the whole line again from the jobs in it (their shown places are kept)."""
        self.order, self._keys = [], []
        self._key_of, self._member_of, self._by_user = {}, {}, {}
        self._server_keys, self._member_keys = {}, {}
        for job in line_order(waiting, last_served):
            user, member = job.requester_id, (job.guild_id, job.requester_id)
            mine = self._by_user.setdefault(user, [])
            key = (len(mine), last_served.get(user, -math.inf), job.id)
            mine.append(job.id)
            self.order.append(job.id)
            self._keys.append(key)
            self._key_of[job.id], self._member_of[job.id] = key, member
            self._server_keys.setdefault(job.guild_id, []).append(key)
            self._member_keys.setdefault(member, []).append(key)
        self._shown = {
            job_id: self._shown[job_id] for job_id in self.order if job_id in self._shown
        }
        self._changed_from = 0

    def moved(self) -> list[int]:
        """The jobs whose card should be brought back (new in line, or moved enough)
        since the last call; their places count as shown."""
        start, self._changed_from = self._changed_from, _UNCHANGED
        moved: list[int] = []
        shown = self._shown
        for place, job_id in enumerate(self.order[start:], start=start + 1):
            before = shown.get(job_id)
            if before is None or (before != place and _moved_enough(before, place)):
                shown[job_id] = place
                moved.append(job_id)
        return moved

    def _insert(self, job_id: int, member: MemberKey, key: _Key) -> None:
        index = bisect_left(self._keys, key)
        self._keys.insert(index, key)
        self.order.insert(index, job_id)
        self._key_of[job_id], self._member_of[job_id] = key, member
        insort(self._server_keys.setdefault(member[0], []), key)
        insort(self._member_keys.setdefault(member, []), key)
        self._changed_from = min(self._changed_from, index)

    def _remove(self, job_id: int) -> MemberKey:
        key, member = self._key_of.pop(job_id), self._member_of.pop(job_id)
        index = bisect_left(self._keys, key)
        del self._keys[index], self.order[index]
        if _drop(self._server_keys[member[0]], key):
            del self._server_keys[member[0]]
        if _drop(self._member_keys[member], key):
            del self._member_keys[member]
        self._changed_from = min(self._changed_from, index)
        return member


def _drop(keys: list[_Key], key: _Key) -> bool:
    """Take `key` out of the sorted `keys`; whether none are left."""
    del keys[bisect_left(keys, key)]
    return not keys


def _moved_enough(shown: int, place: int) -> bool:
    """Whether a card showing `shown` should be brought back at `place`."""
    return min(shown, place) <= SHOWN_AGAIN_WITHIN or abs(shown - place) >= (
        SHOWN_AGAIN_SHARE * shown
    )
