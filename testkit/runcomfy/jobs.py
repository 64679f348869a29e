"""One emulated job: how it will end, and its state as the simulation moves it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from .contract import DEFAULT_DURATION, IN_QUEUE, PRICE_PER_SECOND, PRICE_PER_SECOND_WITH_SOUND


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a job ends once generated: a video (optionally a large synthetic one, or the
    given bytes) or a failure."""

    kind: Literal["complete", "fail"] = "complete"
    error: str | None = None
    video_size: int | None = None
    video_data: bytes | None = None
    """Served instead of the sample MP4 (a real test video, or something that is not one)."""

    @classmethod
    def complete(
        cls, *, video_size: int | None = None, video_data: bytes | None = None
    ) -> JobOutcome:
        return cls("complete", None, video_size, video_data)

    @classmethod
    def fail(
        cls, message: str = "Generation failed: the model could not render this prompt."
    ) -> JobOutcome:
        return cls("fail", message, None)


def default_generation_time(payload: Mapping[str, Any]) -> float:
    """Clock seconds a job spends in_progress: 20 s plus 10 s per second of video."""
    duration = payload.get("duration", DEFAULT_DURATION)
    return 20.0 + 10.0 * (duration if isinstance(duration, int) else DEFAULT_DURATION)


@dataclass(slots=True, eq=False)
class EmulatedJob:
    """One job as the emulator sees it. Times are `clock.now()` values (epoch seconds)."""

    request_id: str
    seq: int
    payload: dict[str, Any]
    generation_time: float
    outcome: JobOutcome
    submitted_at: float
    queue_delay: float = 0.0
    """Clock seconds the job waits in the queue at least (the `queue_delay` knob)."""
    status: str = IN_QUEUE
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def duration(self) -> int:
        return int(self.payload.get("duration", DEFAULT_DURATION))

    @property
    def sound(self) -> bool:
        return bool(self.payload.get("sound", True))

    @property
    def cost(self) -> Decimal:
        rate = PRICE_PER_SECOND_WITH_SOUND if self.sound else PRICE_PER_SECOND
        return rate * self.duration
