"""A small picture of one page of an uploaded file, for the batch page and for classifying
a refused page by hand (issue 12, points 2 and 3).  Runs where the file is parsed: the
service calls it in its inspection process (a hostile file takes only that down)."""

from __future__ import annotations

import dataclasses

import cv2

from .errors import IngestError
from .limits import IngestLimits
from .loader import DEFAULT_LIMITS, iter_pages

THUMB_WIDTH = 480  # px: enough to tell one form from another, and a tag's title
THUMB_DPI = 100  # a PDF page is rendered at this (A4: 827 px wide), then shrunk


def page_thumbnail(
    data: bytes,
    filename: str,
    index: int,
    width: int = THUMB_WIDTH,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> bytes:
    """PNG of page `index` (0-based) of the file, `width` px wide (never enlarged).
    IngestError (Chinese) for a file that cannot be read or a page it has not.  Only that
    page is rendered (a PDF at THUMB_DPI) or decoded."""
    small = dataclasses.replace(limits, dpi=min(limits.dpi, THUMB_DPI))
    for page in iter_pages(data, filename, small, first=index):
        image = page.image
        h, w = image.shape[:2]
        if w > width:
            image = cv2.resize(image, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".png", image)
        if not ok:
            raise IngestError("无法生成页面缩略图")
        return buf.tobytes()
    raise IngestError(f"文件 {filename} 没有第 {index + 1} 页")
