"""Reading values from a digital PDF's text layer instead of OCR (a prefilled PDF
completed on a computer): the alignment found on the rendered page maps boxes to text."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from formdesk.templates.geometry import Rect

from .align import Alignment


class TextLayer:
    def __init__(self, pdf_page, dpi: float):
        self.chars = [c for c in pdf_page.chars if c["text"].strip()]
        self.pt_per_px = 72.0 / dpi

    def text_at(self, alignment: Alignment) -> Callable[[Rect], str]:
        """A function giving the text inside a form rect (mm), in reading order."""

        def inside(r: Rect) -> str:
            corners = np.array([[[r.x, r.y], [r.right, r.y], [r.right, r.bottom], [r.x, r.bottom]]],
                               dtype=np.float64)
            px = cv2.perspectiveTransform(corners, alignment.to_image)[0] * self.pt_per_px
            x0, y0 = px.min(axis=0)
            x1, y1 = px.max(axis=0)
            hits = [c for c in self.chars
                    if x0 <= (c["x0"] + c["x1"]) / 2 <= x1 and y0 <= (c["top"] + c["bottom"]) / 2 <= y1]
            hits.sort(key=lambda c: (round(c["top"] / 3), c["x0"]))
            return "".join(c["text"] for c in hits)

        return inside
