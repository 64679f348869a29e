"""Lenient parsing of RunComfy's answers: documented shapes, aliases and surprises."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.runcomfy.responses import (
    CancelOutcome,
    CancelResult,
    JobResult,
    RequestStatus,
    StatusResult,
)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("in_queue", RequestStatus.IN_QUEUE),
        ("queued", RequestStatus.IN_QUEUE),
        ("IN_QUEUE", RequestStatus.IN_QUEUE),
        ("in-progress", RequestStatus.IN_PROGRESS),
        ("in progress", RequestStatus.IN_PROGRESS),
        ("running", RequestStatus.IN_PROGRESS),
        ("completed", RequestStatus.COMPLETED),
        ("Succeeded", RequestStatus.COMPLETED),
        ("failed", RequestStatus.FAILED),
        ("error", RequestStatus.FAILED),
        ("cancelled", RequestStatus.CANCELLED),
        ("canceled", RequestStatus.CANCELLED),
        (" completed ", RequestStatus.COMPLETED),
        ("warming_up", RequestStatus.UNKNOWN),
        ("", RequestStatus.UNKNOWN),
        (None, RequestStatus.UNKNOWN),
        (3, RequestStatus.UNKNOWN),
    ],
)
def test_status_parse(raw: object, status: RequestStatus) -> None:
    assert RequestStatus.parse(raw) is status


def test_terminal_statuses() -> None:
    terminal = {s for s in RequestStatus if s.is_terminal}
    assert terminal == {RequestStatus.COMPLETED, RequestStatus.FAILED, RequestStatus.CANCELLED}


def test_status_result_documented_shape() -> None:
    body = {
        "request_id": "abc-123",
        "status": "in_queue",
        "queue_position": 4,
        "status_url": "https://x/status",
        "result_url": "https://x/result",
    }
    result = StatusResult.from_json("abc-123", body)
    assert result == StatusResult("abc-123", RequestStatus.IN_QUEUE, "in_queue", 4)


def test_status_result_unknown_status_keeps_raw_and_ignores_extras() -> None:
    result = StatusResult.from_json("abc", {"status": "Warming Up", "eta": 12, "x": [1]})
    assert result.status is RequestStatus.UNKNOWN
    assert result.raw_status == "Warming Up"
    assert result.request_id == "abc"
    assert result.queue_position is None


@pytest.mark.parametrize(
    ("raw", "position"), [(3, 3), (3.0, 3), ("7", 7), (True, None), ("soon", None), (2.5, None)]
)
def test_queue_position_is_lenient(raw: object, position: int | None) -> None:
    result = StatusResult.from_json("abc", {"status": "in_queue", "queue_position": raw})
    assert result.queue_position == position


def test_status_result_without_status() -> None:
    result = StatusResult.from_json("abc", {})
    assert (result.status, result.raw_status) == (RequestStatus.UNKNOWN, None)


def test_job_result_completed_with_cost() -> None:
    body = {
        "request_id": "abc",
        "status": "completed",
        "output": {"video": "https://cdn.example/v.mp4"},
        "created_at": "2025-01-01T00:00:00Z",
        "finished_at": "2025-01-01T00:01:10Z",
        "error": None,
        "cost": 0.63,
        "model_id": "kling/kling-3.0/standard/text-to-video",
    }
    result = JobResult.from_json("abc", body)
    assert result.status is RequestStatus.COMPLETED
    assert result.video_url == "https://cdn.example/v.mp4"
    assert result.cost == Decimal("0.63")
    assert result.error is None
    assert (result.created_at, result.finished_at) == (
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:01:10Z",
    )


def test_job_result_video_falls_back_to_videos_list() -> None:
    result = JobResult.from_json(
        "abc", {"status": "completed", "output": {"videos": ["", 3, "https://cdn/v2.mp4"]}}
    )
    assert result.video_url == "https://cdn/v2.mp4"


def test_job_result_without_video() -> None:
    result = JobResult.from_json("abc", {"status": "completed", "output": {"image": "https://i"}})
    assert result.video_url is None
    assert JobResult.from_json("abc", {"status": "completed", "output": None}).video_url is None


def test_job_result_not_finished_answers_current_status() -> None:
    result = JobResult.from_json("abc", {"status": "in_queue", "queue_position": 2})
    assert result.status is RequestStatus.IN_QUEUE
    assert result.queue_position == 2
    assert result.outputs == {}


@pytest.mark.parametrize(
    ("error", "text"),
    [
        ("model crashed", "model crashed"),
        ({"message": "nsfw content"}, "nsfw content"),
        ({"error_message": "timeout"}, "timeout"),
        ({"code": 5}, None),
        ("", None),
        (None, None),
    ],
)
def test_job_result_error_text(error: object, text: str | None) -> None:
    assert JobResult.from_json("abc", {"status": "failed", "error": error}).error == text


@pytest.mark.parametrize(
    ("cost", "amount"),
    [(0.42, Decimal("0.42")), ("1.26", Decimal("1.26")), (2, Decimal(2)), (True, None)],
)
def test_job_result_cost_parsing(cost: object, amount: Decimal | None) -> None:
    assert JobResult.from_json("abc", {"status": "completed", "cost": cost}).cost == amount


@pytest.mark.parametrize("cost", ["NaN", "free", float("inf"), [1]])
def test_job_result_bad_cost_is_ignored(cost: object) -> None:
    assert JobResult.from_json("abc", {"status": "completed", "cost": cost}).cost is None


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        ("cancelled", CancelOutcome.CANCELLED),
        ("Canceled", CancelOutcome.CANCELLED),
        ("not_cancellable", CancelOutcome.NOT_CANCELLABLE),
        ("not-cancelable", CancelOutcome.NOT_CANCELLABLE),
        ("maybe", CancelOutcome.UNKNOWN),
        (None, CancelOutcome.UNKNOWN),
    ],
)
def test_cancel_outcome_parse(raw: object, outcome: CancelOutcome) -> None:
    assert CancelOutcome.parse(raw) is outcome


def test_cancel_result() -> None:
    result = CancelResult.from_json({"status": "cancelled", "outcome": "cancelled"})
    assert result == CancelResult(CancelOutcome.CANCELLED, RequestStatus.CANCELLED)
    running = CancelResult.from_json({"status": "in_progress", "outcome": "not_cancellable"})
    assert running == CancelResult(CancelOutcome.NOT_CANCELLABLE, RequestStatus.IN_PROGRESS)
    assert CancelResult.from_json({}) == CancelResult(CancelOutcome.UNKNOWN)
