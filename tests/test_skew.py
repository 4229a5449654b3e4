"""The turn of a page's print (extract/skew.py): a page without marks, photographed turned
a few degrees on a desk that shows no outline, is levelled on its own ruled lines before
they are looked for (issue 13)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formdesk.extract.skew import LEVEL_FROM, levelled, print_skew
from samples.external import external_blank


def _turned(page: np.ndarray, degrees: float) -> np.ndarray:
    h, w = page.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(page, m, (w, h), borderValue=(255, 255, 255))


@pytest.mark.parametrize("code", ["SH-ZH/BD-27", "表格04"])
@pytest.mark.parametrize("degrees", [-12.0, -8.0, -3.0, 0.0, 2.5, 8.0, 15.0])
def test_the_turn_of_a_page_is_its_print(code, degrees):
    page = external_blank(code).page()
    got = print_skew(cv2.cvtColor(_turned(page, degrees), cv2.COLOR_BGR2GRAY))
    assert got is not None and abs(got - degrees) < 0.3, got


def test_a_page_turned_sideways_is_level_too():
    """A quarter turn is no skew: the columns' lines are the rows' lines turned."""
    page = cv2.rotate(_turned(external_blank("表格04").page(), 5.0), cv2.ROTATE_90_CLOCKWISE)
    got = print_skew(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY))
    assert got is not None and abs(got - 5.0) < 0.3, got


def test_levelled_lies_level_and_keeps_all_of_the_page():
    page = _turned(external_blank("SH-ZH/BD-27").page(), 8.0)
    flat = levelled(page)
    assert flat is not None and flat.shape[0] > page.shape[0] and flat.shape[1] > page.shape[1]
    assert abs(print_skew(cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY))) < 0.3
    # nearly level already, or nothing printed: left as it is
    assert levelled(_turned(external_blank("SH-ZH/BD-27").page(), LEVEL_FROM / 2)) is None
    assert levelled(np.full((400, 300, 3), 240, np.uint8)) is None


def test_texture_or_noise_gives_no_angle():
    """A photo of a desk's grain or of noise, however large, has no print to level on
    (looked at no larger than WORK_SIDE px: bounded time)."""
    rng = np.random.default_rng(3)
    noise = (rng.random((3000, 4000)) * 255).astype(np.uint8)
    assert print_skew(noise) is None
    assert levelled(cv2.cvtColor(noise, cv2.COLOR_GRAY2BGR)) is None
