"""`extract.variants.misplaced_regions`: parts of a page without marks whose ruled lines
lie clearly better elsewhere once aligned (a page torn and taped) — and not a photo whose
soft lower part drifts under a millimetre off the global fit (refused as torn before: a
BD-27 photo of the external bench, its lower lines 0.5–0.9 mm low and blurred, lay 0.3 on
print where they were and better 3.9 mm up on the handwriting)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formdesk.extract.align import PX_PER_MM
from formdesk.extract.variants import misplaced_regions
from samples.external import external_blank, filled_page


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return cv2.cvtColor(external_blank("SH-ZH/BD-27").page(), cv2.COLOR_BGR2GRAY)


def _drift_down(gray: np.ndarray, most_mm: float, start: float) -> np.ndarray:
    """The page with everything below `start` (share of its height) moved down, evenly
    more to `most_mm` at the paper's bottom edge (a photo's bow the global fit did not take
    out): BD-27's last ruled line, at 82 % of the height, about 0.6 × `most_mm` low."""
    h, w = gray.shape
    ys = np.arange(h, dtype=np.float32)
    t = np.clip((ys - start * h) / ((1 - start) * h), 0, 1)
    shift = most_mm * PX_PER_MM * t
    map_y = np.repeat((ys - shift)[:, None], w, axis=1)
    map_x = np.repeat(np.arange(w, dtype=np.float32)[None, :], h, axis=0)
    return cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderValue=255)


@pytest.fixture(scope="module")
def filled() -> np.ndarray:
    image, _ = filled_page(external_blank("SH-ZH/BD-27"), np.random.default_rng(2), "clean")
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("most_mm", [1.2, 1.5, 1.8])
def test_a_soft_lower_part_a_little_off_is_not_a_tear(reference, filled, most_mm):
    """Before: the lower middle part's lines taken for moved 3.7–3.9 mm up (onto the
    handwriting), the lines' sub-millimetre drift not looked at, nor any move downward of
    a part at the page's edge."""
    page = _drift_down(filled, most_mm, 0.55)
    page = cv2.GaussianBlur(page, (0, 0), 1.0)  # a phone's soft focus
    assert misplaced_regions(reference, page) == []


@pytest.mark.parametrize(("dx", "dy"), [(2.5, 0.0), (0.0, -2.5)])
def test_a_lower_half_slid_two_and_a_half_mm_is_misplaced(reference, dx, dy):
    h, w = reference.shape
    m = np.float32([[1, 0, dx * PX_PER_MM], [0, 1, dy * PX_PER_MM]])
    slid = cv2.warpAffine(reference, m, (w, h), borderValue=255)
    page = reference.copy()
    page[h // 2 :] = slid[h // 2 :]
    moved = misplaced_regions(reference, page)
    assert moved, "a torn half slid along was not seen"
    assert all(row == 2 or mm != 0 for _axis, row, _col, mm in moved)
    assert max(abs(mm) for *_, mm in moved) >= 2.0
