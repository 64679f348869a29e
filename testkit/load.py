"""The community load: who asks for which video where, and how long RunComfy takes.

Every job's parameters come from its own seeded random stream, so a run is the same
whatever order the jobs are submitted or polled in, and the emulator can recover them
from the prompt alone. The model (documented in docs/benchmarks.md):

- video length: 3 s (10 %), 5 s (45 %), 8 s (10 %), 10 s (25 %), 15 s (10 %);
- queue wait at RunComfy: uniform 0–60 s, independent of everything else;
- generation: 10 s + 11 s per second of video, times a normal jitter (σ = 8 %),
  kept within 30–180 s (3 s → ~43 s, 5 s → ~65 s, 10 s → ~120 s, 15 s → ~175 s).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DURATION_MIX: tuple[tuple[int, float], ...] = (
    (3, 0.10),
    (5, 0.45),
    (8, 0.10),
    (10, 0.25),
    (15, 0.10),
)
QUEUE_WAIT = (0.0, 60.0)
TOGETHER_GENERATION = (20.0, 30.0)
"""A crowded prompt session: no queue, runs of 20–30 s, so videos finish close together."""
GENERATION_LIMITS = (30.0, 180.0)
GENERATION_BASE = 10.0
GENERATION_PER_VIDEO_SECOND = 11.0
GENERATION_JITTER = 0.08
DEFAULT_SEED = 20_260_101

SCENES = (
    "a red fox running through fresh snow at dawn",
    "a lighthouse in a storm, waves crashing over the rocks",
    "a tram gliding through fog in an old city",
    "a paper boat drifting down a rain gutter",
    "a hummingbird hovering over a purple flower, slow motion",
    "neon reflections on a wet street at night, camera dolly forward",
    "a cat knocking a glass off a table, handheld camera",
    "time-lapse of clouds rolling over mountain peaks",
)
_KEY = re.compile(r"^load-(\d+): ")


@dataclass(frozen=True, slots=True)
class JobPlan:
    """One `/video generate`: by which member, in which channel, and its hidden timings."""

    index: int
    member: int
    channel: int
    duration: int
    queue_wait: float
    generation_seconds: float
    scene: str

    @property
    def prompt(self) -> str:
        return f"load-{self.index}: {self.scene}"


def index_of(prompt: str) -> int | None:
    """The job index a load prompt starts with (None for other prompts)."""
    match = _KEY.match(prompt)
    return int(match[1]) if match else None


class LoadModel:
    """Seeded job plans, and the emulator's `queue_delay` / `generation_time` callbacks."""

    def __init__(self, seed: int = DEFAULT_SEED, *, together: bool = False) -> None:
        self.seed = seed
        self.together = together

    def plan(self, index: int, *, members: int = 1, channels: int = 1) -> JobPlan:
        """Job `index`; its member is `index % members`, spread round-robin over channels."""
        rng = random.Random(f"{self.seed}:{index}")
        lengths = [length for length, _ in DURATION_MIX]
        weights = [weight for _, weight in DURATION_MIX]
        duration = rng.choices(lengths, weights)[0]
        queue_wait = rng.uniform(*QUEUE_WAIT)
        generation = generation_seconds(duration, rng.gauss(1.0, GENERATION_JITTER))
        if self.together:
            queue_wait, generation = 0.0, rng.uniform(*TOGETHER_GENERATION)
        member = index % members
        return JobPlan(
            index=index,
            member=member,
            channel=member % channels,
            duration=duration,
            queue_wait=queue_wait,
            generation_seconds=generation,
            scene=rng.choice(SCENES),
        )

    def plans(self, jobs: int, *, members: int, channels: int) -> list[JobPlan]:
        return [self.plan(index, members=members, channels=channels) for index in range(jobs)]

    def queue_delay(self, payload: Mapping[str, Any]) -> float:
        index = index_of(str(payload.get("prompt", "")))
        return 0.0 if index is None else self.plan(index).queue_wait

    def generation_time(self, payload: Mapping[str, Any]) -> float:
        index = index_of(str(payload.get("prompt", "")))
        if index is None:
            return generation_seconds(int(payload.get("duration", 5)), 1.0)
        return self.plan(index).generation_seconds


@dataclass(frozen=True, slots=True)
class Finish:
    """One video in one channel: when it finished and, for a bot that learns of it later,
    when it could be posted at the earliest (None: at once)."""

    channel: int
    at: float
    seen: float | None = None


def paced_waits(
    finishes: Iterable[Finish], *, per_window: int = 5, window: float = 5.0
) -> list[float]:
    """How long a *perfect* bot would hold each video back for Discord's channel limit.

    The bot is assumed to post nothing but videos, each the moment it sees the finish
    (`seen`, else at once) and in that order, taking no time to post, at most
    `per_window` messages in any `window` seconds in one channel. What remains is the
    wait no pacing can remove: the floor under the measured delivery lag, counted from
    each finish."""
    by_channel: dict[int, list[Finish]] = {}
    for finish in finishes:
        by_channel.setdefault(finish.channel, []).append(finish)
    waits: list[float] = []
    for videos in by_channel.values():
        posted: list[float] = []
        for video in sorted(videos, key=_seen):
            at = _seen(video)
            if len(posted) >= per_window:
                at = max(at, posted[-per_window] + window)
            posted.append(at)
            waits.append(at - video.at)
    return waits


def _seen(finish: Finish) -> float:
    return finish.at if finish.seen is None else max(finish.seen, finish.at)


def generation_seconds(duration: int, jitter: float) -> float:
    low, high = GENERATION_LIMITS
    mean = GENERATION_BASE + GENERATION_PER_VIDEO_SECOND * duration
    return min(high, max(low, mean * jitter))
