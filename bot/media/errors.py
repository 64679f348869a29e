"""What can go wrong with a video file, as exceptions whose `str()` is a plain sentence.

The messages are meant to be shown to people as they are, so they never carry FFmpeg's
own wording; the library error (if any) is kept as `__cause__` for the logs.
"""

from __future__ import annotations


class MediaError(Exception):
    """A video could not be read or prepared."""


class NotAVideo(MediaError):
    """The file is not a video at all: not media, sound only, or a still image."""


class BadMedia(MediaError):
    """The file looks like a video but is damaged or cut short."""


class DoesNotFit(MediaError):
    """The video cannot be made small enough for the size limit."""


class FitTimedOut(MediaError):
    """Re-encoding took longer than allowed and was stopped."""

    def __init__(
        self, message: str = "Making the video smaller took too long, so it was stopped."
    ) -> None:
        super().__init__(message)


class FitFailed(MediaError):
    """Re-encoding stopped for an unexpected reason (the worker crashed, say)."""
