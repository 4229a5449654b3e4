"""Homography from the printed marks to the page: aligns a scan or photo to the template."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from formdesk.templates.geometry import PageGeometry

from .marks import DetectedMark

PX_PER_MM = 200 / 25.4  # the canonical raster every form is read at


@dataclass(frozen=True)
class Alignment:
    to_image: np.ndarray  # 3x3, form mm -> image px
    residual_mm: float  # RMS distance of the mark corners after fitting
    marks_used: int

    def to_form_mm(self, xy: tuple[float, float]) -> tuple[float, float]:
        p = cv2.perspectiveTransform(
            np.array([[xy]], dtype=np.float64), np.linalg.inv(self.to_image)
        )
        return float(p[0, 0, 0]), float(p[0, 0, 1])


def mark_corners_mm(geometry: PageGeometry, mark: DetectedMark) -> np.ndarray:
    """The printed positions (mm) of a mark's four corners, in ArUco corner order."""
    r = geometry.mark_rect(mark.corner)
    return np.array(
        [[r.x, r.y], [r.right, r.y], [r.right, r.bottom], [r.x, r.bottom]], dtype=np.float64
    )


def fit(geometry: PageGeometry, marks: list[DetectedMark]) -> Alignment | None:
    """Fits form->image from every corner of every mark; needs three marks (12 points)."""
    if len(marks) < 3:
        return None
    src = np.vstack([mark_corners_mm(geometry, m) for m in marks])
    dst = np.vstack([m.corners for m in marks])
    scale_px_per_mm = _scale(src, dst)
    h, inliers = cv2.findHomography(
        src, dst, cv2.RANSAC, ransacReprojThreshold=1.5 * scale_px_per_mm
    )
    if h is None:
        return None
    back = cv2.perspectiveTransform(dst.reshape(-1, 1, 2), np.linalg.inv(h)).reshape(-1, 2)
    residual = float(np.sqrt(np.mean(np.sum((back - src) ** 2, axis=1))))
    return Alignment(h, residual, len(marks))


def _scale(src: np.ndarray, dst: np.ndarray) -> float:
    ds = np.linalg.norm(src.max(axis=0) - src.min(axis=0))
    dd = np.linalg.norm(dst.max(axis=0) - dst.min(axis=0))
    return float(dd / ds) if ds else 1.0


def rectify(image: np.ndarray, geometry: PageGeometry, alignment: Alignment) -> np.ndarray:
    """The form cut out of the page and warped flat, at PX_PER_MM (200 dpi)."""
    size = (round(geometry.width * PX_PER_MM), round(geometry.height * PX_PER_MM))
    to_canonical = np.diag([PX_PER_MM, PX_PER_MM, 1.0]) @ np.linalg.inv(alignment.to_image)
    return cv2.warpPerspective(
        image,
        to_canonical,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )
