"""One page of an uploaded file, as the reading stages want it: a BGR image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PageImage:
    source: str  # file name as uploaded
    index: int  # 0-based page index within the file
    image: np.ndarray  # BGR uint8 (OpenCV convention), EXIF orientation applied
    dpi: float  # 200 for PDFs; from the file's metadata for images, or 0 if unknown
    text_layer: bool  # True when the PDF page has extractable text (a digital PDF)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.image.shape[1], self.image.shape[0]
