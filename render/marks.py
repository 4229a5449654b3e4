"""Fiducial marks (ArUco) and the identity QR code, drawn as vector cells."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

from formdesk.templates.geometry import ARUCO_CELLS, ARUCO_DICTIONARY, Rect

from .pen import Pen


@cache
def aruco_bits(marker_id: int) -> np.ndarray:
    """The marker's cells (True = black), border included."""
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    img = cv2.aruco.generateImageMarker(dictionary, marker_id, ARUCO_CELLS, borderBits=1)
    return img == 0


def draw_aruco(pen: Pen, marker_id: int, r: Rect) -> None:
    bits = aruco_bits(marker_id)
    n = bits.shape[0]
    cell = r.w / n
    pen.filled_cells([_run(r, cell, row, col0, col1) for row, col0, col1 in _runs(bits)])


def qr_modules(payload: str) -> np.ndarray:
    qr = QRCode(None, QRErrorCorrectLevel.M)
    qr.addData(payload)
    qr.make()
    n = qr.getModuleCount()
    return np.array([[bool(qr.isDark(r, c)) for c in range(n)] for r in range(n)])


def draw_qr(pen: Pen, payload: str, r: Rect) -> None:
    """The QR fills `r` including a quiet zone of two modules on each side."""
    bits = qr_modules(payload)
    n = bits.shape[0] + 4
    cell = r.w / n
    inner = Rect(r.x + 2 * cell, r.y + 2 * cell, r.w - 4 * cell, r.h - 4 * cell)
    pen.filled_cells([_run(inner, cell, row, c0, c1) for row, c0, c1 in _runs(bits)])


def _runs(bits: np.ndarray):
    """Horizontal runs of dark cells: far fewer rectangles than one per cell."""
    for row in range(bits.shape[0]):
        col, n = 0, bits.shape[1]
        while col < n:
            if bits[row, col]:
                start = col
                while col < n and bits[row, col]:
                    col += 1
                yield row, start, col
            else:
                col += 1


def _run(r: Rect, cell: float, row: int, c0: int, c1: int) -> Rect:
    # a hair of overlap so adjacent rows print without white seams
    return Rect(r.x + c0 * cell, r.y + row * cell, (c1 - c0) * cell, cell + 0.01)
