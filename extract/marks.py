"""Finding the ArUco fiducial marks printed in the corners of every form."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from formdesk.templates.geometry import ARUCO_DICTIONARY, CORNER_ORDER, Corner

DETECT_MAX_SIDE = 2600  # px; larger photos are searched at this size (marks are big)


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
    return [
        DetectedMark(int(i), c.reshape(4, 2).astype(np.float64) / scale)
        for c, i in zip(corners, ids.ravel(), strict=True)
    ]
