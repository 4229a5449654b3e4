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
    assert "右下的一张 SH-ZH/BD-27 被图像边缘截断" in problem.reason, problem.reason


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


def _read(image: np.ndarray, layouts=None):
    reader = FormReader(KEY, default_engine(), layouts=layouts or (lambda c: []))
    return reader.read_file(cv2.imencode(".jpg", image)[1].tobytes(), "bed.jpg")


@pytest.mark.parametrize("code", ["表格04", "SH-ZH/BD-31"])
def test_a_form_of_two_tables_beside_an_own_tag_is_one_form(two_tags, code):
    """An A4 form printing two ruled tables (表格04, the BD-31 manifest) beside formdesk's
    tag on an A3 bed: its tables' print joins, so it is one form — named once by the title
    above its upper table, or read as its registered layout — never a second form
    无法确定是哪种表单."""
    from samples.external import external_blank, filled_tag, registered, shoot
    from samples.scoring import outcomes

    rng = np.random.default_rng(71)
    blank = external_blank(code)
    piece, values = filled_tag(blank, rng)
    at = Placed(300, 150, -0.4) if code == "表格04" else Placed(270, 150, 0.4)
    image = on_flatbed([two_tags[0], piece], [Placed(70, 100, 0.3), at], rng, bed_mm=(420, 297))
    found = locate_on_page(image, KEY)
    assert len(frames_beside(image, found.forms)) == 1
    result = _read(image)
    (record,) = result.records
    assert record.identified_by == "qr"
    (problem,) = result.problems
    assert problem.reason.count("另有一张") == 1, problem.reason
    assert f"另有一张 {code}" in problem.reason and "没有登记它的版式" in problem.reason
    # registered from a scan of the blank, it reads as that layout
    template = get_template(code)
    engine = default_engine()
    layout, _ = registered(shoot(blank.page(), "scan", np.random.default_rng(100)), code, engine)
    result = _read(image, lambda c: [layout] if c == code else [])
    assert result.problems == []
    by = {r.identified_by: r for r in result.records}
    assert sorted(by) == ["layout", "qr"]
    got = [o for o in outcomes(by["layout"], template, values) if o.truth is not None]
    assert sum(o.correct for o in got) >= 0.85 * len(got), [o for o in got if not o.correct]


def _on_cutting_mat(tag: np.ndarray, centre_mm: tuple[float, float], seed: int) -> np.ndarray:
    """A tag photographed flat on a light cutting mat (a 10 mm grid of dark lines over
    the whole image, 300 × 210 mm seen at 200 dpi)."""
    from samples.synth.effects import place_on, scan_effects

    h, w = 1654, 2362
    mat = np.full((h, w, 3), (205, 212, 208), np.uint8)
    step = round(10 * 200 / 25.4)
    for x in range(0, w, step):
        cv2.line(mat, (x, 0), (x, h), (95, 110, 100), 2)
    for y in range(0, h, step):
        cv2.line(mat, (0, y), (w, y), (95, 110, 100), 2)
    ph, pw = tag.shape[:2]
    x0, y0 = centre_mm[0] * 200 / 25.4 - pw / 2, centre_mm[1] * 200 / 25.4 - ph / 2
    quad = np.float32([[x0, y0], [x0 + pw, y0], [x0 + pw, y0 + ph], [x0, y0 + ph]])
    place_on(mat, tag, quad)
    return scan_effects(mat, np.random.default_rng(seed), quarter_turns=0.0)


@pytest.mark.parametrize("centre_mm", [(60, 80), (230, 130)])
def test_a_cutting_mats_grid_is_no_form(two_tags, centre_mm):
    """The ruled grid of a cutting mat under the tag reaches every edge of the image:
    it is the ground, not a form cut at the image's edge (the tag lies off the image's
    centre, so the grid's frame is not around its paper); the tag reads, no problem."""
    result = _read(_on_cutting_mat(two_tags[0], centre_mm, 3))
    (record,) = result.records
    assert record.identified_by == "qr"
    assert result.problems == [], [p.reason for p in result.problems]


def test_an_own_tag_whose_marks_were_lost_is_named_as_own(two_tags):
    """A tag formdesk printed whose marks are mostly gone (torn corners) is not located;
    its QR still shows it is formdesk's own: the problem says so, and never asks for a
    layout to be registered (it would then be read as a print-shop tag)."""
    from formdesk.extract.marks import detect_marks

    damaged = two_tags[1].copy()
    for m in detect_marks(cv2.cvtColor(damaged, cv2.COLOR_BGR2GRAY))[:3]:
        (x, y), (x1, y1) = m.corners.min(0).astype(int), m.corners.max(0).astype(int)
        damaged[y - 5 : y1 + 5, x - 5 : x1 + 5] = 255
    image = on_flatbed(
        [two_tags[0], damaged], [Placed(105, 76, 0.3), Placed(105, 222, -0.4)],
        np.random.default_rng(6),
    )  # fmt: skip
    result = _read(image)
    (record,) = result.records
    (problem,) = result.problems
    assert "下方的一张 SH-ZH/BD-27 带有本系统的定位标记" in problem.reason, problem.reason
    assert "登记" not in problem.reason


def test_an_error_reading_a_form_beside_names_it_and_keeps_the_page(two_tags, monkeypatch):
    """Whatever fails while reading a form beside the own tag, the own tag is still a
    record and the page's problem names where the other lies."""
    from samples.external import external_blank, filled_tag

    piece, _ = filled_tag(external_blank("SH-ZH/BD-27"), np.random.default_rng(3))
    image = on_flatbed(
        [two_tags[0], piece], [Placed(105, 76, 0.3), Placed(105, 222, -0.4)],
        np.random.default_rng(6),
    )  # fmt: skip

    def broken(*_args, **_kw):
        raise RuntimeError("boom")

    monkeypatch.setattr("formdesk.extract.reader.named_around", broken)
    result = _read(image)
    (record,) = result.records
    assert record.identified_by == "qr"
    (problem,) = result.problems
    assert "下方另有一张没有定位标记的表单,识读时出错" in problem.reason, problem.reason


def test_a_tag_cut_with_its_title_off_the_bed_is_still_named(two_tags):
    """A print-shop tag laid with its top — its code, title and first row — off the bed,
    beside an own tag: no title names it and it has no marks, but its printed labels show
    it is a form, not the ground: the page's problem says it is cut."""
    from samples.external import external_blank, filled_tag

    piece, _ = filled_tag(external_blank("SH-ZH/BD-27"), np.random.default_rng(4))
    image = on_flatbed(
        [piece, two_tags[0]], [Placed(105, 48, 0.3), Placed(105, 215, -0.4)],
        np.random.default_rng(7),
    )  # fmt: skip
    result = _read(image)
    (record,) = result.records
    assert record.identified_by == "qr"
    (problem,) = result.problems
    assert "被图像边缘截断" in problem.reason, problem.reason


def _marks_lost(tag: np.ndarray, keep: int) -> np.ndarray:
    """`tag` with all but `keep` of its ArUco marks painted white (torn corners)."""
    from formdesk.extract.marks import detect_marks

    damaged = tag.copy()
    for m in detect_marks(cv2.cvtColor(damaged, cv2.COLOR_BGR2GRAY))[keep:]:
        (x, y), (x1, y1) = m.corners.min(0).astype(int), m.corners.max(0).astype(int)
        damaged[y - 5 : y1 + 5, x - 5 : x1 + 5] = 255
    return damaged


def test_an_own_tag_whose_marks_were_lost_beside_a_print_shop_tag_is_named_as_own(two_tags):
    """A page without a single located form: a print-shop BD-27 tag (its layout registered)
    and one of formdesk's own BD-27 tags whose marks are mostly gone. The print-shop tag is
    read as its layout; the own one is named as formdesk's own — never read against the
    print shop's boxes, never left out without a word."""
    from samples.external import external_blank, filled_tag, registered, shoot

    blank = external_blank("SH-ZH/BD-27")
    piece, _ = filled_tag(blank, np.random.default_rng(4))
    layout, _ = registered(
        shoot(blank.page(), "scan", np.random.default_rng(100)), "SH-ZH/BD-27", default_engine()
    )
    image = on_flatbed(
        [piece, _marks_lost(two_tags[1], 1)], [Placed(105, 76, 0.3), Placed(105, 222, -0.4)],
        np.random.default_rng(6),
    )  # fmt: skip
    assert locate_on_page(image, KEY).forms == []
    result = _read(image, lambda c: [layout] if c == "SH-ZH/BD-27" else [])
    assert [r.identified_by for r in result.records] == ["layout"]
    (problem,) = result.problems
    assert "下方的一张 SH-ZH/BD-27 带有本系统的定位标记" in problem.reason, problem.reason


def test_an_own_tag_whose_marks_were_lost_alone_on_its_page_is_named_as_own(two_tags):
    """The same damaged own tag alone on the bed, a print-shop layout of its form
    registered: named as formdesk's own, not refused as an unregistered layout."""
    from formdesk.extract.reader import LOST_MARKS
    from samples.external import external_blank, registered, shoot

    blank = external_blank("SH-ZH/BD-27")
    layout, _ = registered(
        shoot(blank.page(), "scan", np.random.default_rng(100)), "SH-ZH/BD-27", default_engine()
    )
    image = on_flatbed(
        [_marks_lost(two_tags[1], 1)], [Placed(105, 150, -0.4)], np.random.default_rng(6)
    )
    assert locate_on_page(image, KEY).forms == []
    result = _read(image, lambda c: [layout] if c == "SH-ZH/BD-27" else [])
    assert result.records == []
    assert [p.reason for p in result.problems] == [
        LOST_MARKS.format(what=" SH-ZH/BD-27 保修零部件鉴别标签")
    ]
