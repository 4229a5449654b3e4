"""A decoded ArUco mark must have a printed mark's size and shape (extract/marks.py
mark_shaped): handwriting decoded as a mark must not make a page formdesk's own print."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from formdesk.extract.marks import _detector, detect_marks, mark_shaped
from formdesk.templates import get_template
from samples.synth.pages import printed_page

HANDS = Path(__file__).parent / "data" / "hands"
KEY = b"k" * 32


def test_a_brush_character_decoded_as_a_mark_is_no_mark():
    """司 written with a brush on an external BD-27 (Ma Shan Zheng, bench seed 73): OpenCV
    decodes it as mark 17, 7–15 px a side; the page was refused as formdesk's own print."""
    gray = cv2.imread(str(HANDS / "mashanzheng_si_as_mark.png"), cv2.IMREAD_GRAYSCALE)
    _, ids, _ = _detector().detectMarkers(gray)
    assert ids is not None and 17 in ids.ravel()  # what the detector alone takes it for
    assert detect_marks(gray) == []


@pytest.mark.parametrize("squash", [1.0, 0.7])  # straight on; 45° aslant (cos 45° ≈ 0.7)
def test_printed_marks_are_found_even_aslant(squash):
    """formdesk's own BD-27 as printed, and seen 45° aslant: its four marks are found."""
    page = printed_page(get_template("SH-ZH/BD-27"), {}, KEY)[0]
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page
    h, w = gray.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32(
        [[0, 0], [w * squash, h * (1 - squash) / 2], [w * squash, h * (1 + squash) / 2], [0, h]]
    )
    seen = cv2.warpPerspective(gray, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=255)
    assert sorted(m.marker_id % 4 for m in detect_marks(seen)) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("corners", "shaped"),
    [
        ([[0, 0], [100, 0], [100, 100], [0, 100]], True),
        ([[0, 0], [100, 10], [95, 80], [5, 90]], True),  # aslant
        ([[0, 0], [20, 0], [20, 20], [0, 20]], False),  # too small for 14 mm
        ([[0, 0], [100, 0], [100, 50], [0, 50]], False),  # twice as wide as tall
        ([[657, 205], [671.7, 201.9], [668.3, 212.4], [658, 212]], False),  # the 司
    ],
)
def test_mark_shape(corners, shaped):
    assert mark_shaped(np.array(corners, dtype=np.float64)) is shaped
