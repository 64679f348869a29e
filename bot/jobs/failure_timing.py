"""When in a run RunComfy fails jobs, learned like run times, so the poll schedule can
ask often exactly where failures happen.

RunComfy has no webhooks: a failure is told at the first poll after it. Polling every
few seconds through a whole run would tell every failure fast but costs as much as fixed
polling. Failures are rarely spread evenly over a run: inputs refused or memory running
out show early, a failed encode or upload late. So the tracker records each failure's
moment as a share of the run it expected, and the schedule polls densely only within the
window those shares span. Failures spread over most of the run give no window: the
schedule then keeps its savings and says so (see docs/benchmarks.md).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class FailureTiming:
    """The latest failures' moments, each a share of the run expected for its job."""

    fewest: int = 2
    """Failures seen before a window is trusted."""
    margin: float = 0.05
    """Extra share added on each side of the window."""
    widest: float = 0.6
    """A window wider than this share of the run is no window: failures come anywhere."""
    shares: deque[float] = field(default_factory=lambda: deque(maxlen=12))
    """The last twelve failures' shares."""

    def observe(self, share: float) -> None:
        if share >= 0.0:
            self.shares.append(share)

    def window(self) -> tuple[float, float] | None:
        """Shares of the expected run between which failures happen, if they cluster.

        The spread seen is widened by what `n` samples of an even spread miss on average
        (their range is short of the whole by about 2/(n+1) of it), plus `margin`."""
        count = len(self.shares)
        if count < self.fewest:
            return None
        low, high = min(self.shares), max(self.shares)
        pad = (high - low) / (count - 1) + self.margin
        low, high = max(0.0, low - pad), high + pad
        if high - low > self.widest:
            return None
        return low, high
