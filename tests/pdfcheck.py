"""Looking at rendered PDFs the way the tests need: text inside a box, marks and QR on a
rasterised page."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import zxingcpp

from formdesk.templates.geometry import ARUCO_DICTIONARY, Rect

PT_PER_MM = 72 / 25.4


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def text_in(page: pdfplumber.page.Page, r: Rect, dx: float = 0.0, dy: float = 0.0) -> str:
    """All characters lying entirely inside rect `r` (mm, form coordinates + offset)."""
    bbox = (
        (r.x + dx) * PT_PER_MM,
        (r.y + dy) * PT_PER_MM,
        (r.right + dx) * PT_PER_MM,
        (r.bottom + dy) * PT_PER_MM,
    )
    return squash(page.within_bbox(bbox).extract_text() or "")


def strokes_in(page: pdfplumber.page.Page, r: Rect, dx: float = 0.0, dy: float = 0.0) -> list:
    """Drawn paths (ticks, circles) whose bounding box lies inside `r`, grown by 0.5 mm."""
    g = r.inset(-0.5)
    x0, y0 = (g.x + dx) * PT_PER_MM, (g.y + dy) * PT_PER_MM
    x1, y1 = (g.right + dx) * PT_PER_MM, (g.bottom + dy) * PT_PER_MM
    return [
        c
        for c in page.curves
        if c["x0"] >= x0 and c["x1"] <= x1 and c["top"] >= y0 and c["bottom"] <= y1
    ]


def rasterise(pdf_path, page_index: int = 0, dpi: int = 200) -> np.ndarray:
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        img = pdf[page_index].render(scale=dpi / 72, grayscale=True).to_numpy()
    finally:
        pdf.close()
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def marker_ids(gray: np.ndarray) -> list[int]:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    detector = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
    _, ids, _ = detector.detectMarkers(gray)
    return sorted(ids.ravel().tolist()) if ids is not None else []


def qr_texts(gray: np.ndarray) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)]
