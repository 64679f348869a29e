"""What the emulated model promises: its id and path, prices, input limits, job statuses,
and the endpoints a request can reach."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

MODEL_ID = "kling/kling-3.0/standard/text-to-video"
SUBMIT_PATH = "/v1/models/" + MODEL_ID
PRICE_PER_SECOND = Decimal("0.084")
PRICE_PER_SECOND_WITH_SOUND = Decimal("0.126")
ASPECT_RATIOS = frozenset({"16:9", "9:16", "1:1"})
SHOT_TYPES = frozenset({"intelligent", "customize"})
INPUT_FIELDS = frozenset(
    {
        "prompt",
        "negative_prompt",
        "duration",
        "aspect_ratio",
        "cfg_scale",
        "sound",
        "shot_type",
        "multi_prompt",
    }
)
MAX_TEXT = 2500
MAX_SHOTS = 20
DEFAULT_DURATION = 5

IN_QUEUE = "in_queue"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"


class Endpoint(StrEnum):
    SUBMIT = "submit"
    STATUS = "status"
    RESULT = "result"
    CANCEL = "cancel"
    FILE = "file"


API_ENDPOINTS = (Endpoint.SUBMIT, Endpoint.STATUS, Endpoint.RESULT, Endpoint.CANCEL)
