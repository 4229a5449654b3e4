"""A bowed page (issue 10, point 4): the marks in the corners still fit to 0.2 mm while the
middle of the page is 4–6 mm out of place, which flipped ticks at full confidence.  The
page is re-aligned locally from its printed lines (extract/local_align.py); a field the
local fit cannot explain is never ok."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.templates import get_template
from samples.scoring import outcomes

from .conftest import TEST_KEY, sample_values
from .test_read import as_jpeg, render_pages

CHECKLIST = get_template("表格07")  # 17 tick boxes down the page


def bowed(img: np.ndarray, amp_mm: float, axis: str) -> np.ndarray:
    """The page bent like paper lifting off the glass: a sine bump, zero at the edges
    (where the marks are), `amp_mm` in the middle, along `axis`."""
    h, w = img.shape[:2]
    amp = amp_mm * 200 / 25.4
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = amp * np.sin(np.pi * xx / w) * np.sin(np.pi * yy / h)
    mx, my = (xx, yy - d) if axis == "y" else (xx - d, yy)
    return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderValue=(255, 255, 255))


@pytest.fixture(scope="module")
def checklist(tmp_path_factory):
    pages, doc, _ = render_pages(
        tmp_path_factory.mktemp("bow"), TEST_KEY, CHECKLIST, sample_values(CHECKLIST)
    )
    return pages[0], doc


@pytest.fixture(scope="module")
def reader():
    return FormReader(TEST_KEY, default_engine())


@pytest.mark.parametrize(("amp", "axis"), [(4.0, "y"), (6.0, "x")], ids=["4mm-down", "6mm-across"])
def test_a_bowed_page_is_never_wrong_when_ok(reader, checklist, amp, axis):
    page, doc = checklist
    [record] = reader.read_file(as_jpeg(bowed(page, amp, axis)), "bowed.jpg").records
    assert record.residual_mm < 0.3  # the marks alone see nothing wrong
    wrong = [o for o in outcomes(record, CHECKLIST, doc.values) if not o.correct]
    assert [o for o in wrong if o.status == "ok"] == []
    assert len(wrong) <= 2
    ticks = [f for f in record.fields if f.type == "checkbox" and f.value is not None]
    assert ticks and any(e.startswith("shift:") for f in ticks for e in f.evidence)


def test_a_flat_page_is_left_alone(reader, checklist):
    page, doc = checklist
    [record] = reader.read_file(as_jpeg(page), "flat.jpg").records
    assert not any(e.startswith("shift:") for f in record.fields for e in f.evidence)
    assert [o for o in outcomes(record, CHECKLIST, doc.values) if not o.correct] == []


def test_a_fold_the_mesh_cannot_explain_is_not_ok(reader, checklist):
    """The lower half of the form slid 2.5 mm sideways along a crease (the corner marks
    of each half still fit their half): what lies along the crease cannot be ok."""
    page, doc = checklist
    img = page.copy()
    h, w = img.shape[:2]
    y0, y1, s = int(h * 0.45), int(h * 0.55), int(2.5 * 200 / 25.4)
    img[y0:y1, s:] = page[y0:y1, : w - s]
    [record] = reader.read_file(as_jpeg(img), "folded.jpg").records
    wrong = [o for o in outcomes(record, CHECKLIST, doc.values) if not o.correct]
    assert [o for o in wrong if o.status == "ok"] == []


# -- the aperture problem: print that cannot measure a shift along its own lines -------------
def test_row_lines_alone_cannot_measure_a_sideways_shift():
    """A tile holding only a table's row lines fits any x shift (a BD-23 photo took −5 mm
    there and its empty 车型 cells read other rows' printed serials, ok at 1.0); a column
    line or a character's stroke pins it."""
    from formdesk.extract.local_align import _constrains
    from formdesk.templates.geometry import Rect

    mask = np.zeros((400, 400), np.uint8)
    for y in range(20, 400, 63):  # row lines every 8 mm
        mask[y : y + 2, :] = 1
    box = Rect(0, 0, 400 / 7.874, 400 / 7.874)
    assert _constrains(mask, box) == (False, True)
    mask[:, 200:202] = 1  # a column line
    assert _constrains(mask, box) == (True, True)
    assert _constrains(np.zeros((400, 400), np.uint8), box) == (False, False)


def test_the_bd23_table_holds_tiles_of_row_lines_only():
    """On the real BD-23 print, the VIN column's empty rows (x 42–63 mm) have row lines
    only: no x shift is measured there."""
    from formdesk.extract.local_align import _constrains
    from formdesk.extract.reference import printed_mask
    from formdesk.templates.geometry import Rect

    mask = printed_mask("SH-ZH/BD-23", grow_px=0)
    assert _constrains(mask, Rect(44, 106, 21, 21)) == (False, True)
    assert _constrains(mask, Rect(0, 106, 21, 21)) == (True, True)  # the serials and sides


def test_a_correction_no_line_measured_is_not_trusted():
    """Where the page is out of place but the tile's own print measured nothing along a
    direction, the correction there is the neighbours' guess: a field there is never ok
    (nor empty); a measured one is left as read."""
    from formdesk.extract.fields import LOCAL_GUESS, ReadContext, with_local_fit
    from formdesk.extract.local_align import Mesh
    from formdesk.model.record import FieldReading
    from formdesk.templates.geometry import Rect

    z = np.zeros((2, 2), np.float32)
    guessed = np.array([[0.0, 0.0], [0.0, 3.0]], np.float32)
    mesh = Mesh(z, z, z.copy(), 20.0, 20.0, guessed)
    ctx = ReadContext(None, CHECKLIST, None, mesh=mesh)  # type: ignore[arg-type]

    def reading(status):
        return FieldReading(key="k", label="k", type="text", value="1" if status == "ok" else None,
                            confidence=1.0, status=status, box=[0, 0, 1, 1], evidence=["ocr:1.000"])  # fmt: skip

    for status in ("ok", "empty"):
        r = with_local_fit(reading(status), ctx, Rect(25, 25, 5, 5))
        assert r.status == "check" and r.reason == LOCAL_GUESS
        assert with_local_fit(reading(status), ctx, Rect(2, 2, 5, 5)).status == status
