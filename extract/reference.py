"""Blank-form rasters at the canonical resolution, one per template page variant, cached."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import pypdfium2 as pdfium

from formdesk.render.frame import CONTINUATION, FIRST
from formdesk.render.reference import static_page_pdf
from formdesk.templates import get_template
from formdesk.templates.geometry import PageGeometry

from .align import PX_PER_MM


@lru_cache(maxsize=128)
def blank_gray(code: str, variant: str = FIRST, copy_label: str | None = None) -> np.ndarray:
    """Grey raster (uint8) of the printed form, the same size as a rectified scan."""
    template = get_template(code)
    return form_raster(static_page_pdf(template, variant, copy_label), 0, template.geometry)


def form_raster(pdf: bytes, index: int, geometry: PageGeometry) -> np.ndarray:
    """Page `index` of a PDF formdesk drew, as a grey raster (uint8) at PX_PER_MM, the
    size of a rectified scan of a form of `geometry` (mm)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        img = doc[index].render(scale=PX_PER_MM * 25.4 / 72, grayscale=True).to_numpy()
    finally:
        doc.close()
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    size = (round(geometry.width * PX_PER_MM), round(geometry.height * PX_PER_MM))
    if (img.shape[1], img.shape[0]) != size:
        img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    return img


@lru_cache(maxsize=128)
def printed_mask(
    code: str, variant: str = FIRST, copy_label: str | None = None, grow_px: int = 3
) -> np.ndarray:
    """Where the blank form has print, grown by `grow_px` to absorb alignment error."""
    dark = (blank_gray(code, variant, copy_label) < 160).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1, 2 * grow_px + 1))
    return cv2.dilate(dark, k).astype(bool)


__all__ = ["CONTINUATION", "FIRST", "blank_gray", "form_raster", "printed_mask"]
