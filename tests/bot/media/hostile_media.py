"""Hostile MP4 files, written box by box: an index that claims whatever a test asks.

Each file borrows the H.264 setup (`avcC`) of a small real video, and may borrow its first
picture as every frame's data, so FFmpeg opens and decodes it as readily as a real one;
what the index declares (frames, picture size, duration, tracks, rate) is then whatever
the test asks for.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from bot.media.h264 import BitReader, unescape

_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_STBL = (b"moov", b"trak", b"mdia", b"minf", b"stbl")


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, *payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, struct.pack(">I", version << 24 | flags), *payload)


def find_box(data: bytes, *path: bytes) -> bytes:
    """The payload of the first box at `path` (through `stsd` and `avc1` to `avcC`)."""
    at, end = 0, len(data)
    for depth, kind in enumerate(path):
        while at + 8 <= end:
            size, found = struct.unpack(">I4s", data[at : at + 8])
            if found == kind:
                at, end = at + 8, at + size
                at += {b"stsd": 8, b"avc1": 78}.get(kind, 0)
                break
            at += size
        else:
            raise LookupError(f"no {b'/'.join(path[: depth + 1])!r}")
    return data[at:end]


@dataclass(frozen=True)
class Movie:
    """What the index declares; the defaults describe a plain 2 s, 24 fps clip."""

    avcc: bytes
    width: int = 320
    height: int = 240
    """The sample entry's size (16 bits each)."""
    header_size: tuple[int, int] | None = None
    """The track header's size (signed, in whole pixels); None means the same."""
    frames: int = 48
    frame_size: int = 64
    """Every frame has this many bytes (one `stsz` constant, so the table costs nothing)."""
    frame_data: bytes = b""
    """What each frame holds (repeated or cut to `frame_size`); zeros when empty."""
    timescale: int = 24
    frame_delta: int = 1
    declared_duration: int | None = None
    """In timescale units; None means what the frames add up to."""
    sound_tracks: int = 0
    """Sound tracks without samples: each is one more stream."""
    data_bytes: int | None = None
    """How much frame data follows the index; None means all of it."""
    comment: str | None = None

    def bytes(self) -> bytes:
        total = self.frames * self.frame_size
        pattern = self.frame_data or b"\0"
        frame = (pattern * (self.frame_size // len(pattern) + 1))[: self.frame_size]
        data = frame * self.frames
        if self.data_bytes is not None:
            data = data[: self.data_bytes]
        ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
        index_size = len(self._moov(0))
        moov = self._moov(len(ftyp) + index_size + 8)
        return ftyp + moov + struct.pack(">I4s", 8 + total, b"mdat") + data

    def write(self, path: Path) -> Path:
        path.write_bytes(self.bytes())
        return path

    @property
    def duration(self) -> int:
        if self.declared_duration is not None:
            return self.declared_duration
        return self.frames * self.frame_delta

    def _moov(self, data_offset: int) -> bytes:
        mvhd = full_box(
            b"mvhd",
            struct.pack(">IIII", 0, 0, self.timescale, self.duration),
            struct.pack(">IH", 0x10000, 0x100),
            b"\0" * 10,
            _MATRIX,
            b"\0" * 24,
            struct.pack(">I", 2 + self.sound_tracks),
        )
        sounds = [_sound_track(2 + n) for n in range(self.sound_tracks)]
        return box(b"moov", mvhd, self._video_track(data_offset), *sounds, self._udta())

    def _udta(self) -> bytes:
        if self.comment is None:
            return b""
        data = box(b"data", struct.pack(">II", 1, 0), self.comment.encode())
        hdlr = full_box(b"hdlr", b"\0" * 4, b"mdirappl", b"\0" * 9)
        return box(b"udta", full_box(b"meta", hdlr, box(b"ilst", box(b"\xa9cmt", data))))

    def _video_track(self, data_offset: int) -> bytes:
        entry = box(
            b"avc1",
            b"\0" * 6,
            struct.pack(">H", 1),
            b"\0" * 16,
            struct.pack(">HH", self.width, self.height),
            struct.pack(">IIIH", 0x480000, 0x480000, 0, 1),
            b"\0" * 32,
            struct.pack(">Hh", 24, -1),
            box(b"avcC", self.avcc),
        )
        stbl = box(
            b"stbl",
            full_box(b"stsd", struct.pack(">I", 1), entry),
            full_box(b"stts", struct.pack(">III", 1, self.frames, self.frame_delta)),
            full_box(b"stsc", struct.pack(">IIII", 1, 1, self.frames, 1)),
            full_box(b"stsz", struct.pack(">II", self.frame_size, self.frames)),
            full_box(b"stco", struct.pack(">II", 1, data_offset)),
        )
        width, height = self.header_size or (self.width, self.height)
        tkhd = full_box(
            b"tkhd",
            struct.pack(">IIIII", 0, 0, 1, 0, self.duration),
            b"\0" * 16,
            _MATRIX,
            struct.pack(">ii", width * 0x10000, height * 0x10000),
            flags=3,
        )
        return _track(tkhd, b"vide", self.timescale, self.duration, stbl)


def _sound_track(track_id: int) -> bytes:
    entry = box(
        b"mp4a", b"\0" * 6, struct.pack(">H", 1), b"\0" * 8, struct.pack(">HHII", 2, 16, 0, 0)
    )
    stbl = box(
        b"stbl",
        full_box(b"stsd", struct.pack(">I", 1), entry),
        full_box(b"stts", struct.pack(">I", 0)),
        full_box(b"stsc", struct.pack(">I", 0)),
        full_box(b"stsz", struct.pack(">II", 0, 0)),
        full_box(b"stco", struct.pack(">I", 0)),
    )
    tkhd = full_box(b"tkhd", struct.pack(">IIIII", 0, 0, track_id, 0, 0), b"\0" * 52, flags=3)
    return _track(tkhd, b"soun", 48_000, 0, stbl)


def _track(tkhd: bytes, handler: bytes, timescale: int, duration: int, stbl: bytes) -> bytes:
    mdhd = full_box(b"mdhd", struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0))
    hdlr = full_box(b"hdlr", b"\0" * 4, handler, b"\0" * 12, b"Handler\0")
    media_header = (
        full_box(b"vmhd", b"\0" * 8, flags=1)
        if handler == b"vide"
        else full_box(b"smhd", b"\0" * 4)
    )
    dinf = box(b"dinf", full_box(b"dref", struct.pack(">I", 1), full_box(b"url ", flags=1)))
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", media_header, dinf, stbl)))


def borrowed_avcc(real_video: Path) -> bytes:
    """The `avcC` of a real H.264 MP4."""
    return find_box(real_video.read_bytes(), *_STBL, b"stsd", b"avc1", b"avcC")


def first_frame(real_video: Path) -> bytes:
    """The first video sample of a real MP4 (an IDR picture, in MP4's length-prefixed form)."""
    data = real_video.read_bytes()
    offset = struct.unpack(">I", find_box(data, *_STBL, b"stco")[8:12])[0]
    size = struct.unpack(">I", find_box(data, *_STBL, b"stsz")[12:16])[0]
    return data[offset : offset + size]


def resized_avcc(avcc: bytes, width: int, height: int) -> bytes:
    """`avcc` with its SPS rewritten to declare `width` × `height` (rounded up to whole
    macroblocks, no cropping): what a decoder allocates its frames by."""
    length = struct.unpack(">H", avcc[6:8])[0]
    sps = _resized_sps(avcc[8 : 8 + length], width, height)
    return avcc[:6] + struct.pack(">H", len(sps)) + sps + avcc[8 + length :]


def _resized_sps(nal: bytes, width: int, height: int) -> bytes:
    """Keeps every field before the size (so the borrowed pictures still parse), then
    writes the new size and ends the set there: no cropping, no VUI."""
    raw = unescape(nal[1:])
    if raw[0] not in (66, 77, 88):
        raise ValueError("borrow the SPS of a baseline, main or extended profile video")
    reader = BitReader(raw)
    reader.bits(24)
    reader.ue()  # seq_parameter_set_id
    reader.ue()  # log2_max_frame_num_minus4
    if reader.ue() == 0:  # pic_order_cnt_type
        reader.ue()
    reader.ue()  # max_num_ref_frames
    reader.bits(1)  # gaps_in_frame_num_value_allowed_flag
    kept = reader.position
    copy = BitReader(raw)
    writer = _BitWriter()
    writer.put(copy.bits(kept), kept)
    writer.ue(-(-width // 16) - 1)
    writer.ue(-(-height // 16) - 1)
    writer.put(0b11001, 5)  # frame_mbs_only, direct_8x8_inference, no cropping, no VUI, stop
    return nal[:1] + _escaped(writer.bytes())


class _BitWriter:
    def __init__(self) -> None:
        self._bits: list[int] = []

    def put(self, value: int, count: int) -> None:
        self._bits += [(value >> shift) & 1 for shift in range(count - 1, -1, -1)]

    def ue(self, value: int) -> None:
        code = value + 1
        self.put(0, code.bit_length() - 1)
        self.put(code, code.bit_length())

    def bytes(self) -> bytes:
        bits = self._bits + [0] * (-len(self._bits) % 8)
        return bytes(int("".join(map(str, bits[at : at + 8])), 2) for at in range(0, len(bits), 8))


def _escaped(rbsp: bytes) -> bytes:
    """With emulation-prevention bytes, as an H.264 NAL unit carries them."""
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)
