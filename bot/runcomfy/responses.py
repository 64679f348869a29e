"""Typed answers of the Model API. Parsing is lenient: unknown fields are ignored and
status names are matched loosely, because RunComfy's answers are only partly documented."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class RequestStatus(StrEnum):
    IN_QUEUE = "in_queue"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, raw: object) -> RequestStatus:
        """Map any spelling RunComfy (or its clients) use; anything else is UNKNOWN."""
        if not isinstance(raw, str):
            return cls.UNKNOWN
        return _STATUS_ALIASES.get(
            raw.strip().lower().replace("-", "_").replace(" ", "_"), cls.UNKNOWN
        )

    @property
    def is_terminal(self) -> bool:
        return self in (RequestStatus.COMPLETED, RequestStatus.FAILED, RequestStatus.CANCELLED)


_STATUS_ALIASES: dict[str, RequestStatus] = {
    "in_queue": RequestStatus.IN_QUEUE,
    "queued": RequestStatus.IN_QUEUE,
    "inqueue": RequestStatus.IN_QUEUE,
    "pending": RequestStatus.IN_QUEUE,
    "in_progress": RequestStatus.IN_PROGRESS,
    "inprogress": RequestStatus.IN_PROGRESS,
    "running": RequestStatus.IN_PROGRESS,
    "processing": RequestStatus.IN_PROGRESS,
    "completed": RequestStatus.COMPLETED,
    "complete": RequestStatus.COMPLETED,
    "succeeded": RequestStatus.COMPLETED,
    "success": RequestStatus.COMPLETED,
    "failed": RequestStatus.FAILED,
    "failure": RequestStatus.FAILED,
    "error": RequestStatus.FAILED,
    "cancelled": RequestStatus.CANCELLED,
    "canceled": RequestStatus.CANCELLED,
}


class CancelOutcome(StrEnum):
    CANCELLED = "cancelled"
    NOT_CANCELLABLE = "not_cancellable"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, raw: object) -> CancelOutcome:
        if not isinstance(raw, str):
            return cls.UNKNOWN
        key = raw.strip().lower().replace("-", "_").replace(" ", "_")
        if key in ("cancelled", "canceled"):
            return cls.CANCELLED
        if key in ("not_cancellable", "not_cancelable", "notcancellable"):
            return cls.NOT_CANCELLABLE
        return cls.UNKNOWN


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _optional_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _optional_decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return None
        return amount if amount.is_finite() else None
    return None


def _error_text(value: object) -> str | None:
    """RunComfy's `error` may be a string, an object with a message, or absent."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        for key in ("message", "error_message", "detail", "error"):
            text = value.get(key)
            if isinstance(text, str) and text:
                return text
    return None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    request_id: str
    status_url: str | None = None
    result_url: str | None = None
    cancel_url: str | None = None


@dataclass(frozen=True, slots=True)
class StatusResult:
    request_id: str
    status: RequestStatus
    raw_status: str | None = None
    queue_position: int | None = None

    @classmethod
    def from_json(cls, request_id: str, body: Mapping[str, Any]) -> StatusResult:
        raw = body.get("status")
        return cls(
            request_id=_optional_str(body.get("request_id")) or request_id,
            status=RequestStatus.parse(raw),
            raw_status=raw if isinstance(raw, str) else None,
            queue_position=_optional_int(body.get("queue_position")),
        )


@dataclass(frozen=True, slots=True)
class JobResult:
    """The result endpoint's answer. When the job is not finished, only `status` is meaningful."""

    request_id: str
    status: RequestStatus
    raw_status: str | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict)
    cost: Decimal | None = None
    error: str | None = None
    created_at: str | None = None
    finished_at: str | None = None
    queue_position: int | None = None

    @property
    def video_url(self) -> str | None:
        """`output.video`, else the first of `output.videos`."""
        video = _optional_str(self.outputs.get("video"))
        if video:
            return video
        videos = self.outputs.get("videos")
        if isinstance(videos, list):
            for item in videos:
                if isinstance(item, str) and item:
                    return item
        return None

    @classmethod
    def from_json(cls, request_id: str, body: Mapping[str, Any]) -> JobResult:
        raw = body.get("status")
        output = body.get("output")
        return cls(
            request_id=_optional_str(body.get("request_id")) or request_id,
            status=RequestStatus.parse(raw),
            raw_status=raw if isinstance(raw, str) else None,
            outputs=dict(output) if isinstance(output, Mapping) else {},
            cost=_optional_decimal(body.get("cost")),
            error=_error_text(body.get("error")),
            created_at=_optional_str(body.get("created_at")),
            finished_at=_optional_str(body.get("finished_at")),
            queue_position=_optional_int(body.get("queue_position")),
        )


@dataclass(frozen=True, slots=True)
class CancelResult:
    outcome: CancelOutcome
    status: RequestStatus = RequestStatus.UNKNOWN

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> CancelResult:
        return cls(
            outcome=CancelOutcome.parse(body.get("outcome")),
            status=RequestStatus.parse(body.get("status")),
        )
