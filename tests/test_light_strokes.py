"""A light stroke one pixel wide stays in the crop OCR is given (extract/ink.py
`FormImage._thin_reach`).  A purchase date's day 21 written with MNIST figures had its 1
drawn light and one pixel wide, grey 190–215: the ink mask (darker than INK_LEVEL, opened
2 × 2) lost it, the crop was trimmed to the 2, and the date was read 2023-04-02 at 0.99
with every piece of ink in the crop read — ok, and wrong (held-out seed 491).  A cell
line's sliver at the box's side, or a speck, is not such a stroke."""

from __future__ import annotations

import numpy as np

from formdesk.extract.align import PX_PER_MM
from formdesk.extract.ink import FormImage
from formdesk.templates.geometry import Rect

BOX = Rect(10.0, 10.0, 45.0, 7.5)  # mm, a BD-27 date's box


def _form(extra) -> FormImage:
    """A white page with a dark blob (a written figure) in BOX, and `extra` drawn on its
    grey image (callable on the array, px)."""
    page = np.full((300, 600), 255, np.uint8)
    x, y = round(BOX.x * PX_PER_MM), round(BOX.y * PX_PER_MM)
    page[y + 15 : y + 45, x + 40 : x + 60] = 40  # the 2
    extra(page, x, y)
    colour = np.dstack([page] * 3)
    return FormImage.build(colour, np.zeros(page.shape, bool))


def _right_edge(form: FormImage) -> int:
    """How far right (px from the box's left) the crop OCR is given reaches."""
    crop = form.text_crop(BOX)
    assert crop is not None
    return crop.shape[1]


def test_a_light_thin_1_beside_the_writing_stays_in_the_crop():
    def light_one(page, x, y):
        page[y + 14 : y + 46, x + 72] = 205  # one pixel wide, lighter than INK_LEVEL

    plain = _right_edge(_form(lambda *a: None))
    assert _right_edge(_form(light_one)) >= plain + 12


def test_a_light_1_joined_to_the_figure_by_its_light_pixels_stays_in_the_crop():
    def joined_one(page, x, y):
        page[y + 28 : y + 30, x + 60 : x + 72] = 215  # light ink between the 2 and the 1
        page[y + 14 : y + 46, x + 72] = 205

    plain = _right_edge(_form(lambda *a: None))
    assert _right_edge(_form(joined_one)) >= plain + 12


def test_a_sliver_a_streak_a_missed_line_or_a_speck_do_not_widen_the_crop():
    def side_and_speck(page, x, y):
        right = round(BOX.right * PX_PER_MM) - round(0.6 * PX_PER_MM) - 1
        page[y + 5 : y + 55, right] = 205  # a cell line's sliver inside the box's side
        page[y + 30 : y + 33, x + 120 : x + 123] = 205  # a speck
        page[:, x + 80] = 215  # a scanner's dust streak down the page
        page[y + 1 : y + 59, x + 12] = 205  # a cell line the print mask missed

    plain = _right_edge(_form(lambda *a: None))
    assert _right_edge(_form(side_and_speck)) == plain
