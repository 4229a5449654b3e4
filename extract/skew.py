"""The turn of a page's printed lines, and the page levelled (issue 13): a form formdesk
did not print has no marks, and its ruled lines are found as runs of dark pixels along the
image's rows and columns (ruling.py), which a page photographed turned by more than about
2 degrees no longer gives — a 1 px line drifts a pixel every 30 px.  On a dark desk the
paper's outline squares the page up first; a light page on a light desk shows no outline,
so the page is levelled on its own print instead.

Works on a grey image in which print is about PX_PER_MM (a 200 dpi scan, a phone photo of a
page at about that size); angles in degrees, positive counter-clockwise as the image is
seen (cv2.getRotationMatrix2D's sense).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .ruling import dark_pixels

NEAR_AXIS = 20.0  # degrees: a segment this close to a row or a column is a ruled line
SEGMENT_SHARE = 0.12  # of the image's shorter side: the shortest segment counted
SEGMENT_GAP_PX = 3  # a scan's broken line is still one segment
LEVEL_FROM = 1.0  # degrees: a turn smaller than this is left as it is
WORK_SIDE = 1200  # px: the image is looked at no larger than this (its longer side)
MAX_DARK = 0.25  # of the pixels: more dark than this is texture or noise, not a page's print


def print_skew(gray: np.ndarray, ignore: np.ndarray | None = None) -> float | None:
    """The turn (degrees) of the long straight print in `gray` (uint8, any size): the
    length-weighted median of the angles of segments (probabilistic Hough on the dark
    pixels, at least SEGMENT_SHARE of the shorter side long) lying within NEAR_AXIS of a
    row or a column, those near a column taken as their quarter-turn.  None when no such
    segment is seen (a blank or a page of handwriting only) or more than MAX_DARK of the
    image is dark (a texture, noise).  `ignore`: a mask (uint8, the image's size) of
    parts whose print does not count (formdesk's own forms, painted out: their outlines
    would count as level lines).  Looked at no larger than WORK_SIDE px.  Positive: the lines rise to
    the right as the image is seen, and the page is levelled by turning it clockwise."""
    scale = min(1.0, WORK_SIDE / max(gray.shape[:2]))
    if scale < 1.0:  # bounded time: a 4000 px photo of noise took 21 s at full size
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    dark = dark_pixels(gray)
    if ignore is not None:
        dark[cv2.resize(ignore, dark.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0] = 0
    if dark.mean() > MAX_DARK:
        return None
    dark *= 255
    least = max(20, int(SEGMENT_SHARE * min(gray.shape[:2])))
    segments = cv2.HoughLinesP(
        dark, 1, math.pi / 720, threshold=least, minLineLength=least, maxLineGap=SEGMENT_GAP_PX
    )
    if segments is None:
        return None
    angles, weights = [], []
    for x0, y0, x1, y1 in segments.reshape(-1, 4):
        a = math.degrees(math.atan2(y0 - y1, x1 - x0))  # rows grow downwards
        a = (a + 45.0) % 90.0 - 45.0  # a column's segment as its quarter-turn
        if abs(a) <= NEAR_AXIS:
            angles.append(a)
            weights.append(math.hypot(x1 - x0, y1 - y0))
    if not angles:
        return None
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2)])


def levelled(image: np.ndarray) -> np.ndarray | None:
    """`image` (BGR or grey) turned so that its print lies level (`print_skew`), on a
    canvas grown to hold all of it, the ground around filled with the median of the image's
    border (a desk's shade: no streaks that could pass for lines); None
    when no turn is seen or it is under LEVEL_FROM degrees."""
    got = levelling(image)
    return None if got is None else got[0]


def levelling(
    image: np.ndarray, ignore: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """`levelled` (the turn measured without the print under `ignore`, as `print_skew`),
    and the 2×3 affine map (px) taking the image's points to the levelled image's; None
    when no turn is seen or it is under LEVEL_FROM degrees."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    angle = print_skew(gray, ignore)
    if angle is None or abs(angle) < LEVEL_FROM:
        return None
    return turned_by(image, angle)


def turned_by(image: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """`image` turned so that print lying at `angle` degrees (print_skew's sense) lies
    level, on a canvas holding all of it, the corners filled with the ground's shade
    (the median of the image's rim); and the 2×3 affine map (px) taking the image's
    points to the turned image's."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(math.ceil(w * c + h * s)), int(math.ceil(w * s + h * c))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    rim = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    ground = np.median(rim, axis=0)
    fill = tuple(float(v) for v in np.atleast_1d(ground))
    turned = cv2.warpAffine(
        image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )  # fmt: skip
    return turned, m
