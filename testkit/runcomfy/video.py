"""The videos the emulator serves: a real sample MP4, padded on the fly to any size, and
the single byte ranges a download may ask for."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

ASSETS = Path(__file__).parents[1] / "assets"
SAMPLE_MP4: bytes = (ASSETS / "sample.mp4.bin").read_bytes()
"""A real 1-second 64×36 H.264/AAC MP4 (ftyp, moov, free, mdat), made with ffmpeg.

Stored as `.mp4.bin` because the project's .gitignore ignores `*.mp4`."""

CHUNK_BYTES = 256 * 1024
_ZEROS = bytes(CHUNK_BYTES)


class Video:
    """A video body: the sample MP4 (or `body`), optionally padded by a `free` box to
    `size` bytes.

    The padding is zeros generated while streaming, so a 100 MB video costs no memory.
    """

    def __init__(self, size: int | None, body: bytes = SAMPLE_MP4) -> None:
        if size is None or size <= len(body):
            self.prefix = body
        else:
            padding = size - len(body)
            if padding < 8:
                raise ValueError(f"a padded video must be at least {len(body) + 8} bytes")
            if padding < 2**32:
                header = struct.pack(">I4s", padding, b"free")
            else:
                header = struct.pack(">I4sQ", 1, b"free", padding)
            self.prefix = body + header
        self.size = max(size or 0, len(body))

    def chunks(self, start: int, stop: int) -> Iterator[bytes]:
        """Bytes [start, stop) in chunks of at most CHUNK_BYTES."""
        position = start
        while position < stop:
            if position < len(self.prefix):
                end = min(stop, len(self.prefix), position + CHUNK_BYTES)
                yield self.prefix[position:end]
            else:
                end = min(stop, position + CHUNK_BYTES)
                yield _ZEROS[: end - position]
            position = end

    def content(self) -> bytes:
        """Every byte, as a download of the whole video receives them."""
        return b"".join(self.chunks(0, self.size))


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=` range as [start, stop); None means "send everything" (absent or multi)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                raise RangeNotSatisfiable
            return max(0, size - suffix), size
        start = int(first)
        stop = size if last == "" else min(size, int(last) + 1)
    except ValueError:
        return None
    if start >= size or stop <= start:
        raise RangeNotSatisfiable
    return start, stop
