"""What a Kling 3.0 video costs, for the estimate shown before and while a job runs."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bot.runcomfy.request import KlingRequest

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Pricing:
    """US dollars per second of video; RunComfy charges more when sound is generated."""

    per_second: Decimal = Decimal("0.084")
    per_second_with_sound: Decimal = Decimal("0.126")

    def estimate(self, request: KlingRequest) -> Decimal:
        rate = self.per_second_with_sound if request.effective_sound else self.per_second
        return rate * request.effective_duration


def format_usd(amount: Decimal) -> str:
    """`$0.42`: two decimals, rounded half up, as people expect money to look."""
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP)}"
