"""The directories (IFDs) of a TIFF walked in its raw bytes before Pillow reads them.

Pillow unpacks every numeric tag into a tuple of Python ints and libtiff works per strip or
tile: a 31 MB TIFF of one 1 × 4,000,000-pixel frame stored as one strip per row took Pillow
47 s and 1.4 GB (measured).  Real scans have ~100–1,200 strips per page (libtiff's default
of 8 KB per strip: 8-bit grey A4 at 300 dpi is 1,170) or a few thousand tiles.

Only the frames Pillow would read are walked (at most `frames`); a directory chain that
loops or leaves the file ends the walk, as it ends Pillow's.
"""

from __future__ import annotations

import struct

from .errors import IngestError

MAX_BLOCKS_PER_FRAME = 50_000  # strips or tiles of one frame
MAX_BLOCKS_PER_FILE = 500_000  # ~5 s of Pillow's per-strip work
MAX_TAG_VALUES = 262_144  # a 16-bit palette has 196,608
MAX_ENTRIES = 4_096  # tags in one directory; TIFF defines fewer than 300

_BLOCK_TAGS = (273, 324)  # StripOffsets, TileOffsets
_NUMERIC = {3: 2, 4: 4, 5: 8, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8}  # type -> size


def check_tiff_directories(data: bytes, frames: int) -> None:
    """IngestError when one of the first `frames` directories asks for too much work."""
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return  # Pillow refuses it
    order = "<" if data[:2] == b"II" else ">"
    big = _unpack(order + "H", data, 2) == 43
    if big:  # BigTIFF: 8-byte counts and offsets
        count_fmt, head_fmt, entry_size, off_fmt, first = "Q", "HHQ", 20, "Q", 8
    else:
        count_fmt, head_fmt, entry_size, off_fmt, first = "H", "HHI", 12, "I", 4
    offset = _unpack(order + off_fmt, data, first)
    seen: set[int] = set()
    total = 0
    for frame in range(1, frames + 1):
        if not offset or offset in seen or offset >= len(data):
            return
        seen.add(offset)
        entries = _unpack(order + count_fmt, data, offset)
        if entries is None:
            return
        if entries > MAX_ENTRIES:
            raise IngestError(f"TIFF 第 {frame} 页的标签过多({entries} 个,上限 {MAX_ENTRIES} 个)")
        start = offset + struct.calcsize(count_fmt)
        blocks = 0
        for i in range(entries):
            at = start + i * entry_size
            head = _unpack_many(order + head_fmt, data, at)
            if head is None:
                return
            tag, kind, count = head
            if tag in _BLOCK_TAGS and count > MAX_BLOCKS_PER_FRAME:
                raise IngestError(
                    f"TIFF 第 {frame} 页分块过多({count} 个条带或图块,"
                    f"上限 {MAX_BLOCKS_PER_FRAME} 个)"
                )
            if kind in _NUMERIC and count > MAX_TAG_VALUES:
                raise IngestError(
                    f"TIFF 第 {frame} 页的标签数据过多(标签 {tag} 有 {count} 个值,"
                    f"上限 {MAX_TAG_VALUES} 个)"
                )
            if tag in _BLOCK_TAGS:
                blocks = max(blocks, count)
        total += blocks
        if total > MAX_BLOCKS_PER_FILE:
            raise IngestError(
                f"TIFF 分块过多(前 {frame} 页共 {total} 个条带或图块,上限 {MAX_BLOCKS_PER_FILE} 个)"
            )
        offset = _unpack(order + off_fmt, data, start + entries * entry_size)


def _unpack(fmt: str, data: bytes, at: int) -> int | None:
    values = _unpack_many(fmt, data, at)
    return values[0] if values else None


def _unpack_many(fmt: str, data: bytes, at: int) -> tuple[int, ...] | None:
    size = struct.calcsize(fmt)
    if at < 0 or at + size > len(data):
        return None
    return struct.unpack_from(fmt, data, at)
