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
        self.chars = list(pdf_page.chars)
        self.pt_per_px = 72.0 / dpi

    def text_at(self, alignment: Alignment) -> Callable[[Rect], str]:
        """A function giving the text inside a form rect (mm), in reading order."""

        def inside(r: Rect) -> str:
            corners = np.array(
                [[[r.x, r.y], [r.right, r.y], [r.right, r.bottom], [r.x, r.bottom]]],
                dtype=np.float64,
            )
            px = cv2.perspectiveTransform(corners, alignment.to_image)[0] * self.pt_per_px
            x0, y0 = px.min(axis=0)
            x1, y1 = px.max(axis=0)
            hits = [
                c
                for c in self.chars
                if x0 <= (c["x0"] + c["x1"]) / 2 <= x1 and y0 <= (c["top"] + c["bottom"]) / 2 <= y1
            ]
            return " ".join("".join(c["text"] for c in _reading_order(hits)).split())

        return inside


def _reading_order(chars: list[dict]) -> list[dict]:
    """Lines by vertical centre (digits and the smaller printed 年/月/日 share a line), then
    left to right."""
    lines: list[list[dict]] = []
    for c in sorted(chars, key=lambda c: (c["top"] + c["bottom"]) / 2):
        mid = (c["top"] + c["bottom"]) / 2
        if lines and abs(mid - lines[-1][0]["_mid"]) < 0.5 * (c["bottom"] - c["top"]):
            lines[-1].append(c | {"_mid": lines[-1][0]["_mid"]})
        else:
            lines.append([c | {"_mid": mid}])
    return [c for line in lines for c in sorted(line, key=lambda c: c["x0"])]
