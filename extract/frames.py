"""Printed frames of forms without marks in an image that holds more than one form's
paper (issue 13): a small form (a BD-27 tag, about A6) on an A4 flatbed scan or in a
phone photo taken from further away, or several tags laid side by side and scanned at
once.  Each form's ruled table frame is found apart from the others; the reader then
aligns each on the variant's reference through its frame (variants.variant_forms).

Works on a grey image in which print is about PX_PER_MM (a 200 dpi scan, a phone photo
of a tag seen at about that size); lengths in mm of such an image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .align import PX_PER_MM
from .ruling import EDGE_MM, ruling

FRAME_MIN_MM = 30.0  # a form's frame is at least this wide and high
INNER_SHRINK = 0.8  # a table has ruled lines inside its outline drawn this much smaller
INNER_ROWS = 2  # … among them at least this many rows, each across ROW_SPAN of its width
ROW_SPAN = 0.25  # (a paper's edge, a shadow, the lid's border cross no frame like that)
EDGE_NEAR_MM = 1.5  # a frame this close to where ruling stops at the edge reaches it
ASPECT_TOLERANCE = 0.12  # a whole frame is this close to a variant's frame's shape
# a frame's corners, even seen aslant in a phone photo, are this near square (degrees off
# 90); ruled lines joined into a wedge or a sliver are no frame
CORNER_SLACK_DEG = 30.0


@dataclass(frozen=True, eq=False)
class FoundFrame:
    """A form's ruled frame in the image: its corners (px; TL, TR, BR, BL), its bounding
    box (x, y, w, h, px) and whether it comes within EDGE_NEAR_MM of where ruled lines
    are no longer seen at the image's edge (`at_edge`: part of the form may lie outside
    the image; whether it does, its shape tells)."""

    quad: np.ndarray
    bbox: tuple[int, int, int, int]
    at_edge: bool

    @property
    def centre(self) -> tuple[float, float]:
        x, y, w, h = self.bbox
        return x + w / 2, y + h / 2

    @property
    def aspect(self) -> float:
        """Width over height of the frame (its mean side lengths)."""
        q = self.quad
        w = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
        h = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
        return float(w / h) if h else 0.0


def _corners(points: np.ndarray) -> np.ndarray:
    hull = cv2.convexHull(points).reshape(-1, 2).astype(np.float64)
    s, d = hull.sum(axis=1), hull[:, 0] - hull[:, 1]
    return np.array(
        [hull[np.argmin(s)], hull[np.argmax(d)], hull[np.argmax(s)], hull[np.argmin(d)]]
    )


def printed_frames(gray: np.ndarray) -> list[FoundFrame]:
    """Every ruled frame of at least FRAME_MIN_MM × FRAME_MIN_MM with INNER_ROWS ruled
    rows inside it (a table: papers' edges, shadows and the lid's border around them
    cross nothing like that), in reading order (top to bottom by rows, then left to
    right).  `gray`: the image (uint8, any size)."""
    rule = ruling(gray)
    lines = cv2.dilate(rule.lines, np.ones((5, 5), np.uint8))
    across = cv2.dilate(rule.horizontal, np.ones((5, 5), np.uint8))
    down = cv2.dilate(rule.vertical, np.ones((5, 5), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    hh, ww = gray.shape[:2]
    least = FRAME_MIN_MM * PX_PER_MM
    near = (EDGE_MM + EDGE_NEAR_MM) * PX_PER_MM
    found = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if w < least or h < least:
            continue
        own = (labels[y : y + h, x : x + w] == i).astype(np.uint8)
        ys, xs = np.nonzero(own)
        quad = _corners(np.stack([xs, ys], axis=1).astype(np.int32))
        # the outline drawn INNER_SHRINK towards its centre: a table has lines in there
        middle = np.zeros_like(own)
        centre = quad.mean(axis=0)
        cv2.fillConvexPoly(middle, np.round(centre + INNER_SHRINK * (quad - centre)).astype(
            np.int32), 1)  # fmt: skip
        if np.ptp(quad[:, 0]) < least or np.ptp(quad[:, 1]) < least or not frame_shaped(quad):
            continue  # not four corners of a frame (an L, a line, a wedge)
        # counted with the frame squared up (a turned or tilted frame's rows run aslant);
        # a form laid sideways has its rows running down the image
        fw, fh = round(np.ptp(quad[:, 0])), round(np.ptp(quad[:, 1]))
        upright = np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]])
        m = cv2.getPerspectiveTransform(quad.astype(np.float32), upright)
        if not any(
            _ruled_rows(cv2.warpPerspective(own & middle & ruled[y : y + h, x : x + w], m,
                                            (fw, fh), flags=cv2.INTER_NEAREST), axis)
            >= INNER_ROWS
            for ruled, axis in ((across, 1), (down, 0))
        ):  # fmt: skip
            continue
        edge = x <= near or y <= near or x + w >= ww - near or y + h >= hh - near
        found.append(FoundFrame(quad + (x, y), (int(x), int(y), int(w), int(h)), bool(edge)))
    return reading_order(found)


def frame_shaped(quad: np.ndarray, least_px: float = FRAME_MIN_MM * PX_PER_MM) -> bool:
    """Whether four corners (px; TL, TR, BR, BL) can be a frame's: every side at least
    `least_px` long and every corner within CORNER_SLACK_DEG of square.  A BD-31 photographed
    aslant on a desk had its header block's lines found in pieces, joined into a wedge
    (a 44° corner) and a sliver (a 4 px side), each then reported as a form that could not
    be named (external seed 53); the true frames of the external test set's blanks and
    filled pages, scanned, photographed and its tags on desks, keep their corners within
    9° of square (8.5° at most, seeds 0-7)."""
    for i in range(4):
        a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
        u, v = a - b, c - b
        nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
        if nu < least_px or nv < least_px:
            return False
        angle = float(np.degrees(np.arccos(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))))
        if abs(angle - 90.0) > CORNER_SLACK_DEG:
            return False
    return True


def _ruled_rows(inner: np.ndarray, axis: int) -> int:
    """How many ruled rows (axis 1: lines across the squared-up frame; axis 0: lines down
    it, the rows of a form laid sideways) span at least ROW_SPAN of it."""
    span = inner.shape[axis]
    rows = inner.sum(axis=axis) >= ROW_SPAN * span
    return int(np.count_nonzero(np.diff(rows.astype(np.int8)) == 1)) + int(rows[0])


def reading_order(frames: list[FoundFrame]) -> list[FoundFrame]:
    """Rows top to bottom (a frame whose centre lies within half the row's first
    frame's height of it shares its row), each left to right."""
    rest = sorted(frames, key=lambda f: f.centre[1])
    out: list[FoundFrame] = []
    while rest:
        first = rest[0]
        row = [f for f in rest if abs(f.centre[1] - first.centre[1]) < first.bbox[3] / 2]
        out.extend(sorted(row, key=lambda f: f.centre[0]))
        rest = [f for f in rest if all(f is not r for r in row)]
    return out


def place_name(frame: FoundFrame, shape: tuple[int, ...]) -> str:
    """Where the frame lies in the image, in Chinese (左上, 中间, 右下 …), for reasons."""
    cx, cy = frame.centre
    col = "左中右"[min(2, int(3 * cx / shape[1]))]
    row = "上中下"[min(2, int(3 * cy / shape[0]))]
    if row == col == "中":
        return "中间"
    if row == "中":
        return f"{col}侧"
    if col == "中":
        return f"{row}方"
    return f"{col}{row}"


def frame_shapes_match(
    frame: FoundFrame,
    reference_aspect: float,
    tolerance: float = ASPECT_TOLERANCE,
    sideways: bool = False,
) -> bool:
    """The frame has the shape of a reference frame (width over height) within
    `tolerance` (relative); with `sideways`, also the shape of that frame laid on its
    side (a quarter turn)."""
    shapes = (reference_aspect, 1 / reference_aspect) if sideways else (reference_aspect,)
    return any(abs(frame.aspect / a - 1) <= tolerance for a in shapes)


__all__ = [
    "FoundFrame",
    "frame_shapes_match",
    "place_name",
    "printed_frames",
    "reading_order",
]
