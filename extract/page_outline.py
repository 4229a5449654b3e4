"""A page without marks, flattened to its paper size at PX_PER_MM (issue 13): the paper's
outline when a photo shows it on a darker ground; a small form (a tag) whose printed frame
fills only part of the image, found around that frame (its paper's outline on the desk or
scanner lid, else on an A4 flatbed the paper's size centred on its print); else the whole
image (a flatbed scan or a PDF is the page); then the largest ruled frame is squared up
(skew and keystone).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from formdesk.templates.errors import FormdeskError

from .align import PX_PER_MM
from .frames import printed_frames
from .ruling import dark_pixels, frame_quad, ruling

ASPECT_TOLERANCE = 0.06  # a whole image this close to the paper's shape is the page
OUTLINE_MIN = 0.25  # the paper fills at least this share of a photo
OUTLINE_MAX = 0.9  # … and leaves some ground around it (a scan's page fills its image)
CONTRAST = 25  # grey levels the paper stands above its ground
SMALL_FRAME = 0.6  # a frame narrower and lower than this share of the image: a small form
SMALL_OUTLINE_MIN = 0.02  # … whose paper may fill as little as this share of a photo
BED_MM = 210.0  # a flatbed's short side (A4; Letter's 215.9 is within 3 %)
PRINT_JOIN_MM = 5.0  # print this close together is one form's (title, frame, notes)


class PageOutlineError(FormdeskError, ValueError):
    """The page cannot be flattened (HTTP 422); the message says why (Chinese)."""

    status = 422


def _order(quad: np.ndarray) -> np.ndarray:
    s, d = quad.sum(axis=1), quad[:, 0] - quad[:, 1]
    return np.array(
        [quad[np.argmin(s)], quad[np.argmax(d)], quad[np.argmax(s)], quad[np.argmin(d)]],
        dtype=np.float32,
    )


def _small_edges(image: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The image scaled to 800 px on its long side: (scale, blurred grey, dilated Canny
    edges), where a paper's outline on its ground is looked for."""
    small_scale = 800 / max(image.shape[:2])
    small = cv2.resize(image, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(gray, 30, 90), np.ones((3, 3), np.uint8))
    return small_scale, gray, edges


def paper_outline(image: np.ndarray, min_share: float = OUTLINE_MIN) -> np.ndarray | None:
    """The paper's corners (px; TL, TR, BR, BL) in a photo (BGR), or None when the paper
    is not seen apart from its ground (a scan: the image is the page).  The paper's edge
    is the largest four-sided outline of edges (Canny) inside the image, filling between
    `min_share` and OUTLINE_MAX of it, and the paper must be brighter than the ground
    around it by CONTRAST grey levels."""
    small_scale, gray, edges = _small_edges(image)
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    best, best_area = None, 0.0
    for c in contours:
        hull = cv2.convexHull(c)
        area = cv2.contourArea(hull) / gray.size
        if not min_share <= area <= OUTLINE_MAX or area <= best_area:
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


def papers_seen(image: np.ndarray, min_share: float = SMALL_OUTLINE_MIN) -> list[np.ndarray]:
    """Every paper seen apart from its ground in a photo (BGR): four-sided outlines of
    edges (Canny, as `paper_outline`) filling between `min_share` and OUTLINE_MAX of the
    image, each brighter than the ground just around it by CONTRAST grey levels; their
    corners (px; TL, TR, BR, BL), largest first.  [] on a scan (no ground seen)."""
    small_scale, gray, edges = _small_edges(image)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    k = np.ones((11, 11), np.uint8)
    found = []
    for c in contours:
        hull = cv2.convexHull(c)
        area = cv2.contourArea(hull) / gray.size
        if not min_share <= area <= OUTLINE_MAX:
            continue
        quad = cv2.approxPolyDP(hull, 0.03 * cv2.arcLength(hull, True), True)
        if len(quad) != 4 or cv2.contourArea(quad) < 0.9 * cv2.contourArea(hull):
            continue
        inside = np.zeros(gray.shape, np.uint8)
        cv2.fillConvexPoly(inside, quad.astype(np.int32), 1)
        inner, outer = cv2.erode(inside, k) > 0, (cv2.dilate(inside, k) - inside) > 0
        if not inner.any() or not outer.any():
            continue
        if np.median(gray[inner]) - np.median(gray[outer]) >= CONTRAST:
            found.append((area, _order(quad.reshape(4, 2).astype(np.float32) / small_scale)))
    return [q for _, q in sorted(found, key=lambda f: -f[0])]


def quad_turn(quad: np.ndarray) -> float:
    """The turn (degrees, skew.print_skew's sense: positive rising to the right) of a
    quad's (TL, TR, BR, BL, px) upper and lower sides, their mean, taken within ±45
    degrees (a paper laid sideways: its side's quarter-turn)."""
    turns = []
    for a, b in ((quad[0], quad[1]), (quad[3], quad[2])):
        t = math.degrees(math.atan2(float(a[1] - b[1]), float(b[0] - a[0])))
        turns.append((t + 45.0) % 90.0 - 45.0)
    return float(np.mean(turns))


def flatten_page(image: np.ndarray, paper_mm: tuple[float, float]) -> np.ndarray:
    """`image` (BGR) as the paper `paper_mm` (width, height) at PX_PER_MM, upright as the
    paper is.  Raises PageOutlineError when neither the paper's outline is found nor is
    the image the paper's shape."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    size = (round(paper_mm[0] * PX_PER_MM), round(paper_mm[1] * PX_PER_MM))
    target = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    quad = paper_outline(image)
    if quad is None:
        quad = small_paper(image, paper_mm)
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


def small_paper(image: np.ndarray, paper_mm: tuple[float, float]) -> np.ndarray | None:
    """The corners (px; TL, TR, BR, BL) of a small form's paper (`paper_mm`, width and
    height) in an image it fills only part of: its largest printed frame is narrower and
    lower than SMALL_FRAME of the image.  The paper's outline around the frame when it
    stands out from its ground (a desk, a grey lid), else, on an image of a flatbed's
    shape (A4, short side BED_MM), the paper's size at the bed's scale, turned as the
    frame is and centred on the form's print (its frame with the title and notes printed
    around it).  None when the image is the form's page, or the print around the frame
    is larger than the paper (not this form)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    frames = printed_frames(gray)
    if not frames:
        return None
    hh, ww = gray.shape
    frame = max(frames, key=lambda f: f.bbox[2] * f.bbox[3])
    if frame.bbox[2] >= SMALL_FRAME * ww or frame.bbox[3] >= SMALL_FRAME * hh:
        return None  # the image is the page
    quad = paper_outline(image, SMALL_OUTLINE_MIN)
    if quad is not None and cv2.pointPolygonTest(quad.reshape(-1, 1, 2), frame.centre, False) > 0:
        return quad
    if abs(max(hh, ww) / min(hh, ww) / math.sqrt(2) - 1) > ASPECT_TOLERANCE:
        return None  # no flatbed: its scale is not known
    scale = min(hh, ww) / BED_MM  # px per mm
    r = max(1, round(PRINT_JOIN_MM * scale / 2))
    near = cv2.dilate(
        dark_pixels(gray), cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1,) * 2)
    )
    _, labels = cv2.connectedComponents(near)
    x0, y0 = np.clip(np.round(frame.quad[0]).astype(int), 0, [ww - 1, hh - 1])
    ys, xs = np.nonzero(labels == labels[y0, x0])
    q = frame.quad
    angle = math.atan2(q[1][1] - q[0][1], q[1][0] - q[0][0])  # the frame's turn (radians)
    c, si = math.cos(angle), math.sin(angle)
    centre = np.array(frame.centre)
    d = np.stack([xs, ys], axis=1) - centre
    u, v = d[:, 0] * c + d[:, 1] * si, -d[:, 0] * si + d[:, 1] * c  # along the frame's sides
    pw, ph = paper_mm[0] * scale, paper_mm[1] * scale
    if u.max() - u.min() - 2 * r > 1.05 * pw or v.max() - v.min() - 2 * r > 1.05 * ph:
        return None  # more print than the paper holds
    uc, vc = (u.max() + u.min()) / 2, (v.max() + v.min()) / 2
    corners = np.array([[uc - pw / 2, vc - ph / 2], [uc + pw / 2, vc - ph / 2],
                        [uc + pw / 2, vc + ph / 2], [uc - pw / 2, vc + ph / 2]])  # fmt: skip
    back = np.stack(
        [corners[:, 0] * c - corners[:, 1] * si, corners[:, 0] * si + corners[:, 1] * c], axis=1
    )
    return (back + centre).astype(np.float32)


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


__all__ = ["PageOutlineError", "flatten_page", "paper_outline", "small_paper", "square_frame"]
