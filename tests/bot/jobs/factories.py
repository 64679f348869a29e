"""Small builders for jobs in tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.jobs.model import Job, JobOrigin, JobState
from bot.runcomfy.request import KlingRequest


def make_job(
    job_id: int = 1,
    *,
    state: JobState = JobState.NEW,
    requester_id: int = 10,
    guild_id: int | None = 100,
    channel_id: int = 1000,
    at: float = 1_000.0,
    **changes: Any,
) -> Job:
    fields: dict[str, Any] = {
        "id": job_id,
        "state": state,
        "request": KlingRequest(prompt="a red fox running through snow", duration=5),
        "origin": JobOrigin(requester_id=requester_id, channel_id=channel_id, guild_id=guild_id),
        "created_at": at,
        "updated_at": at,
        "estimated_cost": Decimal("0.63"),
        "state_times": {state: at},
    }
    fields.update(changes)
    return Job(**fields)
