"""How many files (sockets included) the process may open, raised at start-up where allowed.

Many hosts start a process with a soft limit of 1,024 and a much higher hard limit; the
soft limit is the process's to raise. The bot uses no `select()`, so a high limit costs
nothing, and the more it may open the less anything else (the health port, a burst of
downloads) can take from Discord, RunComfy and the database.
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

log = logging.getLogger(__name__)

CEILING = 65536
"""Raised no further than this, even where the hard limit is unlimited."""


@dataclass(frozen=True, slots=True)
class OpenFiles:
    soft: int
    """What the process may open now (`CEILING` stands for unlimited)."""
    hard: int | None
    """None: unlimited."""
    raised_from: int | None = None
    """The soft limit before start-up raised it, if it did."""

    def describe(self) -> str:
        hard = "unlimited" if self.hard is None else str(self.hard)
        if self.raised_from is not None:
            return f"raised from {self.raised_from} to {self.soft} (hard limit {hard})"
        return f"{self.soft} (hard limit {hard})"


def raise_open_files(ceiling: int = CEILING) -> OpenFiles:
    """The soft RLIMIT_NOFILE raised towards the hard limit (at most `ceiling`); it is never
    lowered, and a system that refuses leaves it as it was."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    hard_limit = None if hard == resource.RLIM_INFINITY else hard
    if soft == resource.RLIM_INFINITY:
        return OpenFiles(soft=ceiling, hard=hard_limit)
    target = ceiling if hard_limit is None else min(hard_limit, ceiling)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (OSError, ValueError) as error:
            log.debug("could not raise the open files limit to %d: %s", target, error)
        else:
            return OpenFiles(soft=target, hard=hard_limit, raised_from=soft)
    return OpenFiles(soft=soft, hard=hard_limit)
