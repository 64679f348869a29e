"""Gateway transport encodings: plain text frames, zlib-stream, and zstd-stream when available."""

from __future__ import annotations

import zlib
from typing import Protocol


class FrameEncoder(Protocol):
    def encode(self, text: str) -> str | bytes: ...


class TextFrames:
    """No transport compression: discord.py parses text frames as JSON as is."""

    def encode(self, text: str) -> str:
        return text


class ZlibStream:
    """One zlib context for the whole connection; every frame ends with a Z_SYNC_FLUSH
    (``00 00 ff ff``), which is how discord.py knows a message is complete."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj()

    def encode(self, text: str) -> bytes:
        return self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)


class ZstdStream:
    """One zstd stream per connection, flushed per message (discord.py decodes each frame)."""

    def __init__(self) -> None:
        import zstandard

        self._flush = zstandard.COMPRESSOBJ_FLUSH_BLOCK
        self._compressor = zstandard.ZstdCompressor().compressobj()

    def encode(self, text: str) -> bytes:
        frame: bytes = self._compressor.compress(text.encode())
        end: bytes = self._compressor.flush(self._flush)
        return frame + end


def encoder_for(compress: str | None) -> FrameEncoder:
    """Honour ``compress=`` from the gateway URL; zstd falls back to text without zstandard
    (discord.py only asks for zstd when it has zstandard itself, and reads text frames always)."""
    if compress == "zlib-stream":
        return ZlibStream()
    if compress == "zstd-stream":
        try:
            return ZstdStream()
        except ImportError:
            return TextFrames()
    return TextFrames()
