"""Exit codes: the same for the bot, the operator command line and the doctor, so a
script or a service manager reads one cause one way."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1
    """It ran and failed: a host could not be reached, a job failed, a check failed."""
    SETTINGS = 2
    """A setting or an option is missing or invalid, or a token was refused: fix it and
    run again. Nothing was sent or charged."""
    INTERRUPTED = 130
    """The command line was stopped with Ctrl-C (the bot stops cleanly with 0 instead)."""
