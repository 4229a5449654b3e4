"""Nothing on a scan is left out without a word (issue 10 point 6, issue 13): a tag of
formdesk's own laid partly off the flatbed, beside a whole one, has too few marks to be
located, and the page was done once the whole tag was read. The frames lying outside every
located form's paper are looked at (extract/beside.py); one cut at the image's edge is
named in the page's problem, the whole tag still read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formdesk.extract.beside import frames_beside
from formdesk.extract.locate import locate_on_page
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.templates import get_template
from samples.external import Placed, on_flatbed
from samples.synth import handwritten_page, make_values

KEY = b"k" * 32


@pytest.fixture(scope="module")
def two_tags():
    rng = np.random.default_rng(5)
    t = get_template("SH-ZH/BD-27")
    return [handwritten_page(t, make_values(t, rng, p_empty=0.0), rng, KEY)[0] for _ in range(2)]


@pytest.mark.parametrize("x_mm", [175.0, 195.0])
def test_an_own_tag_cut_at_the_beds_edge_is_named(two_tags, x_mm):
    image = on_flatbed(
        two_tags, [Placed(60, 76, 0.3), Placed(x_mm, 222, -0.4)], np.random.default_rng(6)
    )
    result = FormReader(KEY, default_engine()).read_file(
        cv2.imencode(".jpg", image)[1].tobytes(), "tags.jpg"
    )
    (record,) = result.records
    assert record.identified_by == "qr"
    (problem,) = result.problems
    assert "右下的一张表单被图像边缘截断" in problem.reason, problem.reason


def test_two_whole_own_tags_leave_nothing_beside(two_tags):
    """Both tags located: no frame lies outside their papers, and none is named."""
    image = on_flatbed(
        two_tags, [Placed(60, 76, 0.3), Placed(150, 222, -0.4)], np.random.default_rng(6)
    )
    found = locate_on_page(image, KEY)
    assert len(found.forms) == 2
    assert frames_beside(image, found.forms) == []


def test_an_a4_form_filling_its_scan_is_not_looked_around(monkeypatch):
    """Located papers covering most of the image leave no room for another form: the
    frames are not even looked for (no cost on every A4 page)."""
    from samples.synth import scan_effects

    rng = np.random.default_rng(8)
    t = get_template("表格04")
    page, _ = handwritten_page(t, make_values(t, rng), rng, KEY)
    image = scan_effects(page, rng, quarter_turns=0.0)
    found = locate_on_page(image, KEY)
    assert len(found.forms) == 1

    def looked(_gray):
        raise AssertionError("frames looked for around a form that fills its scan")

    monkeypatch.setattr("formdesk.extract.beside.printed_frames", looked)
    assert frames_beside(image, found.forms) == []
