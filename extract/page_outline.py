"""A page without marks, flattened to its paper size at PX_PER_MM (issue 13): the paper's
outline when a photo shows it on a darker ground, else the whole image (a flatbed scan or
a PDF is the page); then the largest ruled frame is squared up (skew and keystone).
"""

from __future__ import annotations

import cv2
import numpy as np

from formdesk.templates.errors import FormdeskError

from .align import PX_PER_MM
from .ruling import frame_quad, ruling

ASPECT_TOLERANCE = 0.06  # a whole image this close to the paper's shape is the page
OUTLINE_MIN = 0.25  # the paper fills at least this share of a photo
OUTLINE_MAX = 0.9  # … and leaves some ground around it (a scan's page fills its image)
CONTRAST = 25  # grey levels the paper stands above its ground


class PageOutlineError(FormdeskError, ValueError):
    """The page cannot be flattened (HTTP 422); the message says why (Chinese)."""

    status = 422


def _order(quad: np.ndarray) -> np.ndarray:
    s, d = quad.sum(axis=1), quad[:, 0] - quad[:, 1]
    return np.array(
        [quad[np.argmin(s)], quad[np.argmax(d)], quad[np.argmax(s)], quad[np.argmin(d)]],
        dtype=np.float32,
    )


def paper_outline(image: np.ndarray) -> np.ndarray | None:
    """The paper's corners (px; TL, TR, BR, BL) in a photo (BGR), or None when the paper
    is not seen apart from its ground (a scan: the image is the page).  The paper's edge
    is the largest four-sided outline of edges (Canny) inside the image, and the paper
    must be brighter than the ground around it by CONTRAST grey levels."""
    small_scale = 800 / max(image.shape[:2])
    small = cv2.resize(image, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(gray, 30, 90), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    best, best_area = None, 0.0
    for c in contours:
        hull = cv2.convexHull(c)
        area = cv2.contourArea(hull) / gray.size
        if not OUTLINE_MIN <= area <= OUTLINE_MAX or area <= best_area:
            continue
        for eps in (0.01, 0.02, 0.03, 0.05):
            quad = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
            if len(quad) == 4:
                break
        else:
            continue
        if cv2.contourArea(quad) >= 0.9 * cv2.contourArea(hull):
            best, best_area = quad.reshape(4, 2), area
    if best is None:
        return None
    # a scanner's lid or shadow band is no ground: the paper must stand out from it
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(inside, best.astype(np.int32), 1)
    k = np.ones((11, 11), np.uint8)
    inner, outer = cv2.erode(inside, k) > 0, cv2.dilate(inside, k) == 0
    if not outer.any() or np.median(gray[inner]) - np.median(gray[outer]) < CONTRAST:
        return None
    return _order(best.astype(np.float32) / small_scale)


def flatten_page(image: np.ndarray, paper_mm: tuple[float, float]) -> np.ndarray:
    """`image` (BGR) as the paper `paper_mm` (width, height) at PX_PER_MM, upright as the
    paper is.  Raises PageOutlineError when neither the paper's outline is found nor is
    the image the paper's shape."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    size = (round(paper_mm[0] * PX_PER_MM), round(paper_mm[1] * PX_PER_MM))
    target = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    quad = paper_outline(image)
    if quad is not None:
        m = cv2.getPerspectiveTransform(quad, target)
    else:
        h, w = gray.shape
        paper_aspect, aspect = paper_mm[0] / paper_mm[1], w / h
        if abs(aspect / paper_aspect - 1) > ASPECT_TOLERANCE:
            raise PageOutlineError(
                f"图像({w}×{h} 像素)既看不出纸张边缘,也不是 {paper_mm[0]:g}×{paper_mm[1]:g} mm "
                "纸张的比例;请扫描整页或在深色背景上拍摄整张纸"
            )
        m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), target)
    page = cv2.warpPerspective(
        image, m, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )
    return square_frame(page)


def square_frame(page: np.ndarray) -> np.ndarray:
    """The page warped so that its largest ruled frame is an upright rectangle of the same
    size and centre (undoes a scan's skew and keystone); unchanged without a frame."""
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    quad = frame_quad(ruling(gray))
    if quad is None:
        return page
    w = (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
    h = (np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
    cx, cy = quad.mean(axis=0)
    rect = np.float32(
        [[cx - w / 2, cy - h / 2], [cx + w / 2, cy - h / 2], [cx + w / 2, cy + h / 2],
         [cx - w / 2, cy + h / 2]]
    )  # fmt: skip
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), rect)
    return cv2.warpPerspective(
        page, m, (page.shape[1], page.shape[0]), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip


__all__ = ["PageOutlineError", "flatten_page", "paper_outline", "square_frame"]
