"""Finding the ArUco fiducial marks printed in the corners of every form."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from formdesk.templates.geometry import ARUCO_DICTIONARY, CORNER_ORDER, Corner

DETECT_MAX_SIDE = 2600  # px; larger photos are searched at this size (marks are big)
# A mark is printed 14–15 mm square (templates.geometry PageGeometry.mark_size): seen at
# any resolution a form can be read at it is tens of pixels a side, and nearly square even
# in a photo taken aslant.  On formdesk's own scans and photos (bench/external_read's
# generator, 128 marks of four forms) the shortest side was 92 px and the longest side at
# most 1.13 times the shortest.  A brush-written 司 on an external BD-27 (Ma Shan Zheng,
# bench seed 73) was decoded as mark 17: sides 7–15 px, 2.1 times — and the page was
# refused as formdesk's own print with its marks lost.
MIN_MARK_SIDE = 24  # px: 14 mm at 1.7 px/mm (43 dpi), far below a readable page
MAX_SIDE_RATIO = 1.6  # longest side over shortest: a square seen 50° aslant


@dataclass(frozen=True)
class DetectedMark:
    marker_id: int
    corners: np.ndarray  # 4x2 image px, the marker's own TL, TR, BR, BL

    @property
    def slot(self) -> int:
        """Which form of a gang sheet the mark belongs to."""
        return self.marker_id // 4

    @property
    def corner(self) -> Corner:
        return CORNER_ORDER[self.marker_id % 4]


@cache
def _detector() -> cv2.aruco.ArucoDetector:
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, ARUCO_DICTIONARY))
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return cv2.aruco.ArucoDetector(dictionary, params)


def detect_marks(gray: np.ndarray) -> list[DetectedMark]:
    """The ArUco marks (DICT_4X4_50) found in `gray` (image px), each of a printed mark's
    size and shape (`mark_shaped`); none when there are none."""
    scale = min(1.0, DETECT_MAX_SIDE / max(gray.shape))
    small = (
        cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else gray
    )
    corners, ids, _ = _detector().detectMarkers(small)
    if ids is None:
        return []
    # the same id may appear several times: tags from different sheets photographed together
    marks = [
        DetectedMark(int(i), c.reshape(4, 2).astype(np.float64) / scale)
        for c, i in zip(corners, ids.ravel(), strict=True)
    ]
    return [m for m in marks if mark_shaped(m.corners)]


def mark_shaped(corners: np.ndarray) -> bool:
    """Whether a decoded quadrilateral (4×2 image px) can be a printed mark: every side at
    least MIN_MARK_SIDE px, the longest at most MAX_SIDE_RATIO times the shortest.
    Handwriting decoded as a mark (a brush stroke's corner) is small and askew."""
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    return bool(sides.min() >= MIN_MARK_SIDE and sides.max() <= MAX_SIDE_RATIO * sides.min())
