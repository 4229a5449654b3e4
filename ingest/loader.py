"""From an uploaded file's bytes to page images, refusing bad input with one reason.

The type comes from the content, never the name: phones and mail clients rename files,
and a name proves nothing about what a parser is about to read.  Everything cheap (size,
type, encryption, page count, page dimensions, PDF object count and page content) is checked before the first page is
decoded, so a file is refused before any real memory is spent on it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from .errors import IngestError
from .images import image_page_count, iter_image_pages
from .limits import IngestLimits
from .pages import PageImage
from .pdf import iter_pdf_pages, pdf_page_count

EMPTY = "文件为空"
UNSUPPORTED = "不是 PDF、JPEG、PNG 或 TIFF 文件(按内容判断)"

_MAGIC = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
)
DEFAULT_LIMITS = IngestLimits()  # frozen, so sharing one instance as a default is safe

# Readers accept "%PDF-" anywhere in the first KB (some generators put junk before it).
PDF_HEADER_WINDOW = 1024


def sniff(data: bytes) -> str:
    """The type from the leading bytes: "pdf", "jpeg", "png" or "tiff"; else IngestError."""
    if not data:
        raise IngestError(EMPTY)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return "pdf"
    raise IngestError(UNSUPPORTED)


def count_pages(data: bytes, filename: str, limits: IngestLimits = DEFAULT_LIMITS) -> int:
    """Pages the file would give, after every check that needs no rasterising."""
    kind = precheck(data, limits)
    if kind == "pdf":
        return pdf_page_count(data, limits)
    return image_page_count(data, kind, limits)


def iter_pages(
    data: bytes, filename: str, limits: IngestLimits = DEFAULT_LIMITS, first: int = 0
) -> Iterator[PageImage]:
    """Pages one at a time, so only one decoded page is held in memory; from page `first`
    (0-based; the pages before it are neither rendered nor decoded).

    The cheap checks run here, before the iterator is returned: a refused file raises at
    the call, not halfway through a batch.
    """
    kind = precheck(data, limits)
    if kind == "pdf":
        return iter_pdf_pages(data, filename, limits, first)  # checks at the call
    image_page_count(data, kind, limits)
    return iter_image_pages(data, kind, filename, limits, first)


def load_pages(
    data: bytes, filename: str, limits: IngestLimits = DEFAULT_LIMITS
) -> list[PageImage]:
    """All pages at once; fine for a form or two, use `iter_pages` for long files."""
    return list(iter_pages(data, filename, limits))


def precheck(data: bytes, limits: IngestLimits = DEFAULT_LIMITS) -> str:
    """The checks that read nothing but the size and the first bytes: the file's kind
    ("pdf", "jpeg", "png", "tiff"), or IngestError (empty, too large, not supported).
    Cheap enough for a request handler, before the bytes go to any parser."""
    if not data:
        raise IngestError(EMPTY)
    if len(data) > limits.max_bytes:
        size, limit = _size(len(data), up=True), _size(limits.max_bytes)
        raise IngestError(f"文件过大({size},上限 {limit})")
    return sniff(data)


def _size(n: int, up: bool = False) -> str:
    """Bytes as MB or KB to one decimal; the file's own size rounds up, so a file just over
    the limit never reads as equal to it."""
    if n < 1024:
        return f"{n} 字节"
    unit, scale = ("MB", 1024 * 1024) if n >= 1024 * 1024 else ("KB", 1024)
    tenths = n / scale * 10
    tenths = math.ceil(tenths) if up else round(tenths)
    return f"{tenths / 10:g} {unit}"
