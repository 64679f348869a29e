"""An MP4's index (its `moov` box) read in plain Python, never trusting a number in it.

This is how the bot process learns what a video is without FFmpeg: only the index is
read (a few kilobytes for a Kling video, wherever it sits in the file), every size is
checked against its box and the file, and every count against `MediaLimits` before a
table is read. The sample tables are read for the first video track only, which is what
a probe needs. Anything this reader does not handle — another container, a fragmented
or compressed index — is `NotMp4`, for FFmpeg in the worker process to read.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bot.media.errors import BadMedia, MediaError
from bot.media.h264 import SpsError, avcc_picture_size
from bot.media.limits import MediaLimit, MediaLimits

_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
"""Boxes an MP4 or QuickTime file may start with (what FFmpeg's own check accepts)."""
_VISUAL_FIELDS = 78
"""Bytes of a visual sample entry before its child boxes (`avcC` and the like)."""
_MAX_CHILDREN = 4096
"""Boxes directly inside one box; a real index has a few dozen at most."""


class NotMp4(MediaError):
    """Not an MP4 this reader can read: only FFmpeg (in the worker) can say what it is."""


@dataclass(frozen=True, slots=True)
class Track:
    handler: bytes
    """`vide`, `soun`, …"""
    timescale: int
    duration: int
    """As the track header states it, in `timescale` units."""
    entry: bytes
    """The first sample entry's four-character code (`avc1`, `mp4a`), or b"" if none."""
    sizes: tuple[tuple[int, int], ...]
    """Every (width, height) the track states: its header, its sample entry, and for
    H.264 the parameter set a decoder allocates by. The sample entry's comes first."""
    tables: dict[bytes, memoryview]
    """The sample table boxes' payloads, by name (`stts`, `stsz`, `stco`…)."""


@dataclass(frozen=True, slots=True)
class Movie:
    timescale: int
    duration: int
    tracks: tuple[Track, ...]
    comment: str | None
    """The `©cmt` tag, where the bot's own re-encodes note their original's size."""


@dataclass(frozen=True, slots=True)
class Samples:
    """The video track's samples in decoding order (`offsets` may run short of `sizes`
    when the tables do; samples without an offset are not in the file)."""

    sizes: array[int]
    offsets: array[int]
    durations: array[int]


def read_movie(file: BinaryIO, file_size: int, limits: MediaLimits) -> Movie:
    """The index of the MP4 open as `file`; raises `NotMp4`, `BadMedia`, `BeyondLimits`."""
    return _parse_movie(memoryview(_read_moov(file, file_size, limits)), limits)


def read_samples(track: Track, limits: MediaLimits) -> Samples:
    """`track`'s sample tables, with every count checked before its table is read."""
    tables = track.tables
    if b"stsz" not in tables or b"stts" not in tables or b"stsc" not in tables:
        if b"stz2" in tables:
            raise NotMp4("The video's frame sizes are in a form only FFmpeg reads.")
        raise BadMedia("The video's index has no frame table.")
    constant, count = _unpack(">II", tables[b"stsz"], 4)
    limits.check_count(MediaLimit.FRAMES, count)
    sizes = array("I", [constant]) * count if constant else _uints(tables[b"stsz"], 12, count)
    durations = _durations(tables[b"stts"], count, limits)
    if b"stco" in tables:
        chunks = _uints(tables[b"stco"], 8, _entries(tables[b"stco"], 4, limits))
    elif b"co64" in tables:
        chunks = _uints(tables[b"co64"], 8, _entries(tables[b"co64"], 8, limits), wide=True)
    else:
        raise BadMedia("The video's index has no chunk table.")
    return Samples(sizes, _offsets(tables[b"stsc"], chunks, sizes, limits), durations)


def _read_moov(file: BinaryIO, file_size: int, limits: MediaLimits) -> bytes:
    """Step over the top-level boxes (reading only their headers) to the index."""
    at = 0
    for _ in range(limits.max_boxes + 1):
        file.seek(at)
        head = file.read(16)
        if len(head) < 8:
            break
        size, kind = struct.unpack(">I4s", head[:8])
        if at == 0 and kind not in _FIRST_BOXES:
            raise NotMp4("The file is not an MP4.")
        header = 8
        if size == 1 and len(head) == 16:
            (size,), header = struct.unpack(">Q", head[8:16]), 16
        elif size == 0:
            size = file_size - at
        if size < header:
            raise BadMedia("The video's boxes are damaged.")
        if kind == b"moov":
            limits.check_count(MediaLimit.HEADER, size)
            if at + size > file_size:
                raise BadMedia("The video is cut short inside its index.")
            file.seek(at + header)
            return file.read(size - header)
        if kind in (b"moof", b"mfra"):
            raise NotMp4("The video is a fragmented MP4.")
        at += size
    else:
        raise BadMedia("The video has too many boxes before its index.")
    if at == 0:
        raise NotMp4("The file is too short to be an MP4.")
    raise BadMedia("The video is damaged or cut short: it has no index.")


def _parse_movie(moov: memoryview, limits: MediaLimits) -> Movie:
    timescale = duration = 0
    tracks: list[Track] = []
    comment = None
    for kind, body in _boxes(moov):
        if kind == b"mvhd":
            timescale, duration = _timing(body, 12)
        elif kind == b"trak":
            limits.check_count(MediaLimit.STREAMS, len(tracks) + 1)
            tracks.append(_track(body))
        elif kind == b"udta":
            comment = _comment(body)
        elif kind in (b"mvex", b"cmov"):
            raise NotMp4("The video's index is fragmented or compressed.")
    return Movie(timescale, duration, tuple(tracks), comment)


def _track(trak: memoryview) -> Track:
    boxes = _children(trak)
    mdia = _children(boxes.get(b"mdia"))
    stbl = _children(_children(mdia.get(b"minf")).get(b"stbl"))
    if b"mdhd" not in mdia or b"hdlr" not in mdia:
        raise BadMedia("A track of the video has no media header.")
    timescale, duration = _timing(mdia[b"mdhd"], 12)
    handler = bytes(mdia[b"hdlr"][8:12])
    if handler != b"vide":
        return Track(handler, timescale, duration, b"", (), stbl)
    entry, sizes = _visual_entry(stbl.get(b"stsd"))
    if b"tkhd" in boxes:
        sizes.append(_header_size(boxes[b"tkhd"]))
    return Track(handler, timescale, duration, entry, tuple(sizes), stbl)


def _children(parent: memoryview | None) -> dict[bytes, memoryview]:
    """The boxes inside `parent` by kind (the first of each kind); none for no parent."""
    children: dict[bytes, memoryview] = {}
    for kind, body in _boxes(parent if parent is not None else b""):
        children.setdefault(kind, body)
    return children


def _visual_entry(stsd: memoryview | None) -> tuple[bytes, list[tuple[int, int]]]:
    if stsd is None or _unpack(">I", stsd, 4)[0] == 0:
        return b"", []
    first = next(_boxes(stsd[8:]), None)
    if first is None:
        return b"", []
    kind, body = first
    width, height = _unpack(">HH", body, 24)
    sizes = [(width, height)]
    if kind in (b"avc1", b"avc3"):
        avcc = _children(body[_VISUAL_FIELDS:]).get(b"avcC")
        if avcc is not None and len(avcc) > 5 and avcc[5] & 0x1F:
            try:
                sps = avcc_picture_size(bytes(avcc))
            except SpsError as error:
                raise BadMedia("The video's decoder setup is damaged.") from error
            sizes.append((sps.width, sps.height))
    return kind, sizes


def _header_size(tkhd: memoryview) -> tuple[int, int]:
    """The track header's 16.16 fixed-point presentation size, in whole pixels."""
    fields = 32 if tkhd[0] == 1 else 20
    width, height = _unpack(">II", tkhd, 4 + fields + 52)
    return width >> 16, height >> 16


def _timing(body: memoryview, v0_at: int) -> tuple[int, int]:
    """(timescale, duration) from an `mvhd` or `mdhd` of either version."""
    if bytes(body[:1]) == b"\x01":
        timescale, duration = _unpack(">IQ", body, v0_at + 8)
    else:
        timescale, duration = _unpack(">II", body, v0_at)
    if duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        duration = 0  # "unknown"
    return timescale, duration


def _comment(udta: memoryview) -> str | None:
    meta = _children(udta).get(b"meta")
    if meta is not None and bytes(meta[4:8]) != b"hdlr":
        meta = meta[4:]  # an ISO full box; QuickTime's has no version field
    tag = _children(_children(meta).get(b"ilst")).get(b"\xa9cmt")
    data = _children(tag).get(b"data")
    return bytes(data[8:]).decode("utf-8", "replace") if data is not None else None


def _durations(stts: memoryview, count: int, limits: MediaLimits) -> array[int]:
    """One duration per sample, from the run-length table (its total checked as it grows)."""
    durations: array[int] = array("I")
    runs = _uints(stts, 8, 2 * _entries(stts, 8, limits))
    for run in range(0, len(runs), 2):
        length = min(runs[run], count - len(durations))
        limits.check_count(MediaLimit.FRAMES, len(durations) + runs[run])
        durations.extend(array("I", [runs[run + 1]]) * length)
    return durations


def _offsets(
    stsc: memoryview, chunks: array[int], sizes: array[int], limits: MediaLimits
) -> array[int]:
    """Each sample's place in the file, from the chunk table and the sample-to-chunk runs."""
    runs = _uints(stsc, 8, 3 * _entries(stsc, 12, limits))
    if any(runs[run] >= runs[run + 3] for run in range(0, len(runs) - 3, 3)):
        raise BadMedia("The video's sample-to-chunk table is out of order.")
    offsets: array[int] = array("Q")
    for run in range(0, len(runs), 3):
        first = runs[run]
        last = runs[run + 3] - 1 if run + 3 < len(runs) else len(chunks)
        per_chunk = runs[run + 1]
        for chunk in range(max(first, 1), min(last, len(chunks)) + 1):
            at = chunks[chunk - 1]
            for _ in range(min(per_chunk, len(sizes) - len(offsets))):
                offsets.append(at)
                at += sizes[len(offsets) - 1]
            if len(offsets) == len(sizes):
                return offsets
    return offsets


def _entries(body: memoryview, entry_size: int, limits: MediaLimits) -> int:
    """A table's entry count, checked against the frame limit and against its box."""
    (count,) = _unpack(">I", body, 4)
    limits.check_count(MediaLimit.FRAMES, count)
    if 8 + count * entry_size > len(body):
        raise BadMedia("A table in the video's index runs past its box.")
    return count


def _uints(body: memoryview, at: int, count: int, *, wide: bool = False) -> array[int]:
    """`count` big-endian unsigned integers (32-bit, or 64 when `wide`) from `at`."""
    values: array[int] = array("Q" if wide else "I")
    width = 8 if wide else 4
    assert values.itemsize == width
    if at + count * width > len(body):
        raise BadMedia("A table in the video's index runs past its box.")
    values.frombytes(body[at : at + count * width])
    if sys.byteorder == "little":
        values.byteswap()
    return values


def _boxes(data: memoryview | bytes) -> Iterator[tuple[bytes, memoryview]]:
    """The boxes directly inside `data`, as (kind, payload); a size that does not fit
    its parent is damage."""
    view = memoryview(data)
    at = 0
    for _ in range(_MAX_CHILDREN + 1):
        if at + 8 > len(view):
            return
        size, kind = struct.unpack_from(">I4s", view, at)
        header = 8
        if size == 1:
            (size,), header = _unpack(">Q", view, at + 8), 16
        elif size == 0:
            size = len(view) - at
        if size < header or at + size > len(view):
            raise BadMedia("The video's index is damaged.")
        yield kind, view[at + header : at + size]
        at += size
    raise BadMedia("The video's index holds too many boxes.")


def _unpack(layout: str, body: memoryview | bytes, at: int) -> tuple[int, ...]:
    if at < 0 or at + struct.calcsize(layout) > len(body):
        raise BadMedia("A box in the video's index is too short.")
    return struct.unpack_from(layout, body, at)
