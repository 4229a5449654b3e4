"""One page of an uploaded file, as the reading stages want it: a BGR image, and for a
digital PDF the characters of its text layer placed on that image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PageChar:
    """One character of a PDF text layer: its box in the page image's pixels (x right,
    y down), placed by the same transform that rasterised the page — /Rotate, the
    CropBox's offset and /UserUnit included — so text and pixels cannot disagree on
    where a character is."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class PageImage:
    source: str  # file name as uploaded
    index: int  # 0-based page index within the file
    image: np.ndarray  # BGR uint8 (OpenCV convention), EXIF orientation applied
    dpi: float  # 200 for PDFs; from the file's metadata for images, or 0 if unknown
    text_layer: bool  # True when the PDF page has extractable text (a digital PDF)
    chars: tuple[PageChar, ...] = ()  # the text layer (PDF pages with text only)
    issuer_mark: str | None = None  # the PDF's /FormdeskIssue entry, unverified

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.image.shape[1], self.image.shape[0]
