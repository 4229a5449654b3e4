"""Telling the writer's ink from paper and from the form's own print.

A rectified form is flattened (uneven light divided out), thresholded, and the blank
form's print — grown a little for alignment error — is taken away: what is left is ink.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from formdesk.templates.geometry import Rect

from .align import PX_PER_MM

INK_LEVEL = 200  # grey level (after flattening) below which a pixel is ink: light, blurred phone-photo ink included
MIN_INK_PX = 30  # fewer ink pixels than this in a box: nothing was written
# a stroke light and one pixel wide (a thin, light 1) is lost to the ink mask; a piece
# at least this tall (px, ~1.2 mm), lying within STROKE_REACH of the ink's height beside
# the ink and clear of the box's sides, still belongs in the crop OCR is given
STROKE_MIN_PX = 10
STROKE_LEVEL = 225  # … dark: a light stroke's pixels (the ink's own are below INK_LEVEL)
STROKE_REACH = 1.0
STROKE_MAX_HEIGHT = 1.5  # … of the ink's height: taller is a line (a dust streak, a cell line)
SIDE_CLEAR_PX = 3


def px_slices(r: Rect, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """The (rows, cols) slices of an image of `shape` (px at PX_PER_MM, the form's size)
    that `r` (mm) covers, clipped to the image (empty where it lies outside)."""
    h, w = shape[:2]
    y0, y1 = max(0, round(r.y * PX_PER_MM)), min(h, round(r.bottom * PX_PER_MM))
    x0, x1 = max(0, round(r.x * PX_PER_MM)), min(w, round(r.right * PX_PER_MM))
    return slice(y0, max(y0, y1)), slice(x0, max(x0, x1))


@dataclass
class FormImage:
    """A rectified form at PX_PER_MM, with what reading needs precomputed once."""

    colour: np.ndarray  # BGR
    flat: np.ndarray  # grey, illumination flattened, paper ~255
    ink: np.ndarray  # bool: dark and not the form's own print
    printed: np.ndarray  # bool: the blank form's print (grown)

    @classmethod
    def build(cls, colour: np.ndarray, printed: np.ndarray) -> FormImage:
        grey = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
        flat = flatten(grey)
        dark = flat < INK_LEVEL
        ink = dark & ~printed
        ink = cv2.morphologyEx(
            ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)
        ).astype(bool)
        return cls(colour, flat, ink, printed)

    def shifted(self, dx: int, dy: int, r: Rect, margin_mm: float = 3.0) -> FormImage:
        """A copy in which the scan around `r` (mm, grown by `margin_mm`) is moved so that
        what lies at (x + dx, y + dy) comes to (x, y): a local re-alignment
        (local_align.py).  Ink is found again there against the unmoved print."""
        h, w = self.flat.shape
        g = margin_mm * PX_PER_MM
        y0, y1 = max(0, int(r.y * PX_PER_MM - g)), min(h, int(r.bottom * PX_PER_MM + g))
        x0, x1 = max(0, int(r.x * PX_PER_MM - g)), min(w, int(r.right * PX_PER_MM + g))
        # the source window, clipped to the image (outside it: paper)
        sy0, sy1, sx0, sx1 = y0 + dy, y1 + dy, x0 + dx, x1 + dx
        cy0, cy1, cx0, cx1 = max(0, sy0), min(h, sy1), max(0, sx0), min(w, sx1)
        flat, colour = self.flat.copy(), self.colour.copy()
        flat[y0:y1, x0:x1] = 255
        colour[y0:y1, x0:x1] = 255
        if cy1 > cy0 and cx1 > cx0:
            ty, tx = cy0 - dy, cx0 - dx
            flat[ty : ty + cy1 - cy0, tx : tx + cx1 - cx0] = self.flat[cy0:cy1, cx0:cx1]
            colour[ty : ty + cy1 - cy0, tx : tx + cx1 - cx0] = self.colour[cy0:cy1, cx0:cx1]
        ink = self.ink.copy()
        window = (flat[y0:y1, x0:x1] < INK_LEVEL) & ~self.printed[y0:y1, x0:x1]
        ink[y0:y1, x0:x1] = cv2.morphologyEx(
            window.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)
        ).astype(bool)
        return FormImage(colour, flat, ink, self.printed)

    def px(self, r: Rect, inset_mm: float = 0.0) -> tuple[slice, slice]:
        return px_slices(r.inset(inset_mm) if inset_mm else r, self.flat.shape)

    def ink_count(self, r: Rect, inset_mm: float = 0.6) -> int:
        return int(self.ink[self.px(r, inset_mm)].sum())

    def coverage(self, r: Rect, inset_mm: float = 0.0) -> float:
        """Share of the writable pixels in `r` (those not under the form's print) that are ink."""
        sl = self.px(r, inset_mm)
        free = ~self.printed[sl]
        n = int(free.sum())
        return float(self.ink[sl][free].sum()) / n if n else 0.0

    def has_ink(self, r: Rect, inset_mm: float = 0.6) -> bool:
        sl = self.px(r, inset_mm)
        n = int(self.ink[sl].sum())
        area = self.ink[sl].size
        return n >= max(MIN_INK_PX, 0.002 * area)

    def text_crop(
        self, r: Rect, inset_mm: float = 0.6, subtract_print: bool = True, trim: bool = True
    ) -> np.ndarray | None:
        """The writing in `r`, print removed, trimmed to the ink: what OCR is given."""
        sl = self.px(r, inset_mm)
        crop = self.flat[sl].copy()
        if subtract_print:
            crop[self.printed[sl]] = 255
        ink = self.ink[sl]
        if trim:
            ys, xs = np.nonzero(ink)
            if len(xs) == 0:
                return None
            pad = 6
            lo, hi = self._thin_reach(
                sl, int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
            )
            y0, y1 = max(0, ys.min() - pad), min(crop.shape[0], ys.max() + pad + 1)
            x0, x1 = max(0, lo - pad), min(crop.shape[1], hi + pad + 1)
            crop = crop[y0:y1, x0:x1]
        if crop.size == 0:
            return None
        # RapidOCR's model is trained on dark text on light paper, 3 channels
        return cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)

    def _thin_reach(
        self, sl: tuple[slice, slice], x0: int, x1: int, y0: int, y1: int
    ) -> tuple[int, int]:
        """The ink's columns x0..x1 (px of the slice `sl`) widened to the thin strokes
        beside them too light or thin for the ink mask: pieces darker than STROKE_LEVEL off
        the print at least STROKE_MIN_PX tall and at most STROKE_MAX_HEIGHT of the ink's
        height (a dust streak or a cell line the print mask missed runs taller), overlapping
        the ink's rows y0..y1, lying (apart, or joined to the ink by light pixels) within
        STROKE_REACH of its height of the ink or of a stroke already taken, and
        SIDE_CLEAR_PX clear of the slice's sides (a cell line's sliver).  A light MNIST 1
        drawn one pixel wide after a 2 (a purchase date's day 21, held-out seed 491) was
        trimmed off and the date read 2023-04-02, ok at 0.99 with every piece of ink left
        in the crop read."""
        dark = (self.flat[sl] < STROKE_LEVEL) & ~self.printed[sl]
        n, _labels, stats, _ = cv2.connectedComponentsWithStats(dark.astype(np.uint8), 8)
        width = dark.shape[1]
        reach = STROKE_REACH * max(1, y1 - y0 + 1)
        for _ in range(2):  # a stroke found may reach the next
            grown = False
            for x, y, w, h, _area in stats[1:n]:
                if (
                    h < STROKE_MIN_PX
                    or h > STROKE_MAX_HEIGHT * (y1 - y0 + 1)
                    or y + h <= y0
                    or y > y1
                    or x < SIDE_CLEAR_PX
                    or x + w > width - SIDE_CLEAR_PX
                ):
                    continue
                right = x + w - 1
                # apart beside the ink, or joined to it by its light pixels and reaching out
                if x < x0 and x0 - reach <= right and x >= x0 - reach:
                    x0, grown = int(x), True
                if right > x1 and x <= x1 + reach and right <= x1 + reach:
                    x1, grown = int(right), True
            if not grown:
                break
        return x0, x1

    def red_fraction(self, r: Rect) -> float:
        """Share of red (seal ink) pixels in `r`."""
        sl = self.px(r)
        hsv = cv2.cvtColor(self.colour[sl], cv2.COLOR_BGR2HSV)
        hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
        red = ((hue < 10) | (hue > 165)) & (sat > 80) & (val > 60)
        return float(red.mean()) if red.size else 0.0


def flatten(grey: np.ndarray) -> np.ndarray:
    """Divides out the paper's brightness (shadows, phone-light gradients)."""
    small = cv2.resize(grey, None, fx=0.125, fy=0.125, interpolation=cv2.INTER_AREA)
    # closing: thin dark strokes vanish, wide dark regions (shadows, light falloff) stay
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_LINEAR)
    flat = grey.astype(np.float32) * 255.0 / np.maximum(paper.astype(np.float32), 1.0)
    return np.clip(flat, 0, 255).astype(np.uint8)
