"""Reading an MP4's top-level boxes, to check where `moov` sits without trusting FFmpeg."""

from __future__ import annotations

import struct
from pathlib import Path


def top_level_boxes(path: Path) -> list[str]:
    names: list[str] = []
    data = path.read_bytes()
    at = 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            (size,) = struct.unpack(">Q", data[at + 8 : at + 16])
        elif size == 0:
            size = len(data) - at
        names.append(kind.decode("ascii", "replace"))
        at += size
    return names
