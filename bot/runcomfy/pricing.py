"""What a Kling 3.0 video costs, for the estimate shown before and while a job runs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.runcomfy.request import KlingRequest


@dataclass(frozen=True, slots=True)
class Pricing:
    """US dollars per second of video; RunComfy charges more when sound is generated.

    The defaults are also those of PRICE_PER_SECOND and PRICE_PER_SECOND_WITH_SOUND."""

    per_second: Decimal = Decimal("0.084")
    per_second_with_sound: Decimal = Decimal("0.126")

    def estimate(self, request: KlingRequest) -> Decimal:
        rate = self.per_second_with_sound if request.effective_sound else self.per_second
        return rate * request.effective_duration
