"""The picture size an H.264 stream's sequence parameter set declares, read bit by bit.

A decoder allocates its frames by the SPS, not by the size the MP4 header states beside
it, so a file can say 320 × 240 in one place and 12,000 × 12,000 in the other. Reading
the SPS from the `avcC` box costs a few hundred bit reads and no decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
_MAX_EXP_GOLOMB_ZEROS = 31


class SpsError(ValueError):
    """The parameter set ends early or holds a value no encoder writes."""


@dataclass(frozen=True, slots=True)
class SpsSize:
    """Width and height in whole macroblocks, before cropping: what frames take up."""

    width: int
    height: int


def unescape(nal: bytes) -> bytes:
    """Drop the emulation-prevention bytes (00 00 03 → 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class BitReader:
    """Reads big-endian bits and exp-Golomb codes; past the end raises `SpsError`."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.position = 0

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            at = self.position
            if at >= len(self._data) * 8:
                raise SpsError("the parameter set ends early")
            value = value << 1 | (self._data[at >> 3] >> (7 - (at & 7))) & 1
            self.position += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bits(1):
            zeros += 1
            if zeros > _MAX_EXP_GOLOMB_ZEROS:
                raise SpsError("a number in the parameter set is too long")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


def avcc_picture_size(avcc: bytes) -> SpsSize:
    """The size the first SPS of an `avcC` box's payload declares."""
    if len(avcc) < 8 or avcc[5] & 0x1F == 0:
        raise SpsError("the decoder setup holds no parameter set")
    length = int.from_bytes(avcc[6:8], "big")
    nal = avcc[8 : 8 + length]
    if len(nal) != length or length < 4:
        raise SpsError("the parameter set ends early")
    return sps_picture_size(nal)


def sps_picture_size(nal: bytes) -> SpsSize:
    """`nal` is a whole SPS NAL unit, its one-byte header included."""
    reader = BitReader(unescape(nal[1:]))
    profile = reader.bits(8)
    reader.bits(16)  # constraint flags, level
    reader.ue()  # seq_parameter_set_id
    if profile in _HIGH_PROFILES:
        _skip_high_profile_fields(reader)
    reader.ue()  # log2_max_frame_num_minus4
    poc_type = reader.ue()
    if poc_type == 0:
        reader.ue()
    elif poc_type == 1:
        reader.bits(1)
        reader.se()
        reader.se()
        cycle = reader.ue()
        if cycle > 255:
            raise SpsError("the parameter set's picture order cycle is too long")
        for _ in range(cycle):
            reader.se()
    reader.ue()  # max_num_ref_frames
    reader.bits(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = reader.ue() + 1
    height_units = reader.ue() + 1
    frame_mbs_only = reader.bits(1)
    return SpsSize(width=width_mbs * 16, height=height_units * 16 * (2 - frame_mbs_only))


def _skip_high_profile_fields(reader: BitReader) -> None:
    chroma_format = reader.ue()
    if chroma_format == 3:
        reader.bits(1)
    reader.ue()  # bit_depth_luma_minus8
    reader.ue()  # bit_depth_chroma_minus8
    reader.bits(1)  # qpprime_y_zero_transform_bypass_flag
    if reader.bits(1):  # seq_scaling_matrix_present_flag
        for index in range(8 if chroma_format != 3 else 12):
            if reader.bits(1):
                _skip_scaling_list(reader, 16 if index < 6 else 64)


def _skip_scaling_list(reader: BitReader, size: int) -> None:
    last, following = 8, 8
    for _ in range(size):
        if following:
            following = (last + reader.se() + 256) % 256
        last = following or last
