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
            y0, y1 = max(0, ys.min() - pad), min(crop.shape[0], ys.max() + pad + 1)
            x0, x1 = max(0, xs.min() - pad), min(crop.shape[1], xs.max() + pad + 1)
            crop = crop[y0:y1, x0:x1]
        if crop.size == 0:
            return None
        # RapidOCR's model is trained on dark text on light paper, 3 channels
        return cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)

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
