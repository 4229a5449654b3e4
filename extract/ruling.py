"""The ruled lines of a page that formdesk did not print (issue 13): its table frame, its
cells, and a fingerprint of the printed structure.

Works on a grey page at PX_PER_MM (200 dpi); lengths given in mm.  A ruled line is a run
of dark pixels at least LINE_MM long (a printed character's stroke is shorter than
that); a cell is a white area the lines close in.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from formdesk.templates.geometry import Rect

from .align import PX_PER_MM

LINE_MM = 5.0  # shortest ruled line
FINGERPRINT_LINE_MM = 7.0  # shortest line the fingerprint counts (not a written stroke)
EDGE_MM = 4.0  # lines this close to the page's edge are the paper's edge or a shadow
CELL_MIN_MM = 2.5  # narrowest / lowest cell
CELL_FILL = 0.8  # a cell's white area fills this share of its bounding box at least
BIN_MM = 1.0  # fingerprint resolution
SHIFT_MM = 12.0  # fingerprints compared over shifts up to this


def dark_pixels(gray: np.ndarray) -> np.ndarray:
    """Print and ink (uint8 0/1): darker than the paper around it (uneven light, scans)."""
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    block = int(6 * PX_PER_MM) | 1
    return (cv2.adaptiveThreshold(
        blur, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 18
    )).astype(np.uint8)  # fmt: skip


@dataclass
class Ruling:
    """A page's ruled lines: horizontal and vertical masks (uint8 0/1, page size)."""

    horizontal: np.ndarray
    vertical: np.ndarray

    @property
    def lines(self) -> np.ndarray:
        return self.horizontal | self.vertical


def ruling(gray: np.ndarray) -> Ruling:
    """The ruled lines of a grey page; short gaps (a scan's broken line) are closed."""
    dark = dark_pixels(gray)
    n = int(LINE_MM * PX_PER_MM)
    h = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((1, n), np.uint8))
    v = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((n, 1), np.uint8))
    h = cv2.morphologyEx(h, cv2.MORPH_CLOSE, np.ones((1, 7), np.uint8))
    v = cv2.morphologyEx(v, cv2.MORPH_CLOSE, np.ones((7, 1), np.uint8))
    # the paper's own edge, a scanner lid's shadow: no form prints a line there
    e = int(EDGE_MM * PX_PER_MM)
    for mask in (h, v):
        mask[:e], mask[-e:], mask[:, :e], mask[:, -e:] = 0, 0, 0, 0
    return Ruling(h, v)


def cells(rule: Ruling) -> list[Rect]:
    """Every cell the lines close in (mm, from line centre to line centre, about), top to
    bottom then left to right.  The page around the tables is no cell (it touches the
    page's edge)."""
    lines = cv2.dilate(rule.lines, np.ones((3, 3), np.uint8))
    free = (1 - lines).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
    hh, ww = free.shape
    out = []
    least = CELL_MIN_MM * PX_PER_MM
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if w < least or h < least or x == 0 or y == 0 or x + w >= ww or y + h >= hh:
            continue
        if area < CELL_FILL * w * h:
            continue
        g = 2.0  # the dilation and half a line
        out.append(
            Rect((x - g) / PX_PER_MM, (y - g) / PX_PER_MM, (w + 2 * g) / PX_PER_MM,
                 (h + 2 * g) / PX_PER_MM)
        )  # fmt: skip
    out.sort(key=lambda r: (round(r.y), r.x))
    return out


def frame_quad(rule: Ruling) -> np.ndarray | None:
    """The four corners (px; TL, TR, BR, BL) of the largest ruled frame on the page, or
    None when there is none of at least a quarter of the page's width."""
    lines = cv2.dilate(rule.lines, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    biggest = max(contours, key=cv2.contourArea)
    x, y, w, h = cv2.boundingRect(biggest)
    if w < lines.shape[1] / 4:
        return None
    hull = cv2.convexHull(biggest).reshape(-1, 2).astype(np.float64)
    s, d = hull.sum(axis=1), hull[:, 0] - hull[:, 1]
    return np.array(
        [hull[np.argmin(s)], hull[np.argmax(d)], hull[np.argmax(s)], hull[np.argmin(d)]]
    )


def fingerprint(rule: Ruling) -> list[float]:
    """The printed structure in numbers: where the horizontal lines (FINGERPRINT_LINE_MM
    long at least) lie down the page and the vertical lines across it (each line's length per BIN_MM bin, as a share of the
    page's size), the two profiles one after the other, prefixed by their lengths."""
    hh, ww = rule.horizontal.shape
    n = int(FINGERPRINT_LINE_MM * PX_PER_MM)  # handwriting's long strokes are shorter
    horizontal = cv2.morphologyEx(rule.horizontal, cv2.MORPH_OPEN, np.ones((1, n), np.uint8))
    vertical = cv2.morphologyEx(rule.vertical, cv2.MORPH_OPEN, np.ones((n, 1), np.uint8))
    rows = horizontal.sum(axis=1).astype(np.float64) / ww
    cols = vertical.sum(axis=0).astype(np.float64) / hh
    step = BIN_MM * PX_PER_MM
    rows_b = [float(rows[int(i * step) : int((i + 1) * step)].sum()) for i in range(int(hh / step))]
    cols_b = [float(cols[int(i * step) : int((i + 1) * step)].sum()) for i in range(int(ww / step))]
    return [float(len(rows_b)), float(len(cols_b)), *rows_b, *cols_b]


def _profiles(fp: list[float]) -> tuple[np.ndarray, np.ndarray]:
    nr, nc = int(fp[0]), int(fp[1])
    return np.asarray(fp[2 : 2 + nr]), np.asarray(fp[2 + nr : 2 + nr + nc])


def _best_correlation(a: np.ndarray, b: np.ndarray, shift: int) -> float:
    """The largest normalised correlation of two profiles (lines blurred over ±1 bin) over
    shifts up to `shift` bins."""
    k = np.array([0.25, 0.5, 1.0, 0.5, 0.25])
    a, b = np.convolve(a, k, "same"), np.convolve(b, k, "same")
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    best = 0.0
    for s in range(-shift, shift + 1):
        x, y = (a[s:], b[: n - s]) if s >= 0 else (a[: n + s], b[-s:])
        den = float(np.linalg.norm(x) * np.linalg.norm(y))
        if den > 0:
            best = max(best, float(np.dot(x, y)) / den)
    return best


def similarity(a: list[float], b: list[float]) -> float:
    """How alike two pages' printed structures are, 0..1: the weaker of the two profiles'
    best correlation over shifts up to SHIFT_MM (a page lies a little off on the scanner)."""
    ra, ca = _profiles(a)
    rb, cb = _profiles(b)
    shift = int(SHIFT_MM / BIN_MM)
    return min(_best_correlation(ra, rb, shift), _best_correlation(ca, cb, shift))


__all__ = ["Ruling", "cells", "dark_pixels", "fingerprint", "frame_quad", "ruling", "similarity"]
