"""A printed frame is four near-square corners (extract/frames.py `frame_shaped`): ruled
lines found in pieces — a photo taken aslant breaks a header block's lines — and joined
into a wedge or a sliver are no form's frame.  A BD-31 photographed on a desk (external
bench, seed 53, SetoFont) had two such pieces reported as “没有定位标记的表单,无法确定是哪种
表单” beside the one form on the page, which was read all the same."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formdesk.extract.align import PX_PER_MM
from formdesk.extract.frames import frame_shaped, printed_frames

# the two pieces of that photo (px): a wedge with a 44° corner, a sliver with a 4 px side
WEDGE = np.array([[736, 907], [1242, 861], [1016, 1123], [752, 1149]], dtype=float)
SLIVER = np.array([[1141, 939], [2789, 708], [2789, 712], [1156, 1105]], dtype=float)


def test_wedges_and_slivers_are_no_frames():
    assert not frame_shaped(WEDGE)
    assert not frame_shaped(SLIVER)
    # the form's own frame in that photo, and a frame seen 8.5° off square (the most
    # among the external test set's frames scanned, photographed and on desks, seeds 0-7)
    assert frame_shaped(np.array([[754, 1181], [2829, 975], [2940, 1735], [805, 1963]], float))
    assert frame_shaped(np.array([[0, 0], [800, 0], [800 + 90, 600], [90, 600]], float))


def _ruled(quad: np.ndarray, rows: int = 6) -> np.ndarray:
    """A white image with a ruled table drawn in `quad` (TL TR BR BL, px): its outline and
    `rows` - 1 lines across, from its left side to its right."""
    img = np.full((1400, 1800), 255, np.uint8)
    q = quad.astype(np.int32)
    cv2.polylines(img, [q], True, 0, 3)
    for k in range(1, rows):
        t = k / rows
        a, b = quad[0] + t * (quad[3] - quad[0]), quad[1] + t * (quad[2] - quad[1])
        cv2.line(img, tuple(np.int32(a)), tuple(np.int32(b)), 0, 3)
    return img


@pytest.mark.parametrize(
    "quad",
    [
        np.array([[200, 200], [1500, 200], [1500, 1100], [200, 1100]], float),
        np.array([[200, 260], [1500, 200], [1560, 1100], [170, 1150]], float),  # aslant
    ],
)
def test_a_ruled_table_level_or_aslant_is_still_a_frame(quad):
    """The rule loses no true frame: a table's outline with rows across it, level or seen
    aslant, is found."""
    assert min(np.ptp(quad[:, 0]), np.ptp(quad[:, 1])) > 30 * PX_PER_MM
    frames = printed_frames(_ruled(quad))
    assert len(frames) == 1
    assert np.abs(frames[0].quad - quad).max() < 10
