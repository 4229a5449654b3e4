"""Forms without marks lying beside formdesk's own on one image (issue 13): a station's
print-shop tag scanned on the same A4 flatbed as a tag formdesk printed.  The marks find
formdesk's tag; the other has none, and was left out without a word.  Here the printed
frames that lie outside every located form's paper are found, so the reader can read each
as a registered layout or say why it cannot (nothing is dropped on the way in).

Works on the page image as the reader has it (BGR, any size); the located forms' papers
are their templates' paper (mm) mapped by their alignments.
"""

from __future__ import annotations

import cv2
import numpy as np

from .frames import FoundFrame, printed_frames
from .locate import LocatedForm

OWN_SHARE = 0.6  # located papers covering this share of the image leave no room for another
TITLE_ABOVE = 0.35  # of a frame's height: the band above it its title is printed in
AROUND = 0.08  # of a frame's size: the margin kept around it on the other sides


def paper_quads(forms: list[LocatedForm]) -> list[np.ndarray]:
    """Each located form's paper in the image: corners (px; TL, TR, BR, BL, float32 4×2),
    its template's page (0..width, 0..height mm) mapped by its alignment."""
    out = []
    for f in forms:
        g = f.geometry
        mm = np.float64([[[0, 0]], [[g.width, 0]], [[g.width, g.height]], [[0, g.height]]])
        out.append(cv2.perspectiveTransform(mm, f.alignment.to_image).reshape(4, 2))
    return [q.astype(np.float32) for q in out]


def frames_beside(image: np.ndarray, forms: list[LocatedForm]) -> list[FoundFrame]:
    """The printed frames (frames.printed_frames: ruled tables of at least 30 × 30 mm)
    whose centre lies outside every located form's paper, in reading order; [] without
    looking when the located papers cover OWN_SHARE of the image or more (an A4 form on an
    A4 scan: no room for another form)."""
    if not forms:
        return []
    h, w = image.shape[:2]
    quads = paper_quads(forms)
    covered = sum(abs(cv2.contourArea(q)) for q in quads) / float(h * w)
    if covered >= OWN_SHARE:
        return []
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return [
        f
        for f in printed_frames(gray)
        if all(
            cv2.pointPolygonTest(
                q.reshape(-1, 1, 2), (float(f.centre[0]), float(f.centre[1])), False
            )
            < 0
            for q in quads
        )
    ]


def beside_slots(image: np.ndarray, forms: list[LocatedForm]) -> list[tuple[int, FoundFrame]]:
    """`frames_beside` with the slot each form is read in: after the located forms' (the
    reader's records and the review page's lookup both number them so)."""
    return [(len(forms) + i, f) for i, f in enumerate(frames_beside(image, forms))]


def around_frame(image: np.ndarray, frame: FoundFrame) -> np.ndarray:
    """The part of `image` a form of `frame` prints on: the frame's box, with TITLE_ABOVE of
    its height above and below it (where the form's code and title are, upright or upside
    down) and AROUND on its sides, clipped to the image."""
    x, y, w, h = frame.bbox
    ih, iw = image.shape[:2]
    x0 = max(0, int(x - AROUND * w))
    x1 = min(iw, int(x + w + AROUND * w))
    y0 = max(0, int(y - TITLE_ABOVE * h))
    y1 = min(ih, int(y + h + TITLE_ABOVE * h))
    return image[y0:y1, x0:x1]
