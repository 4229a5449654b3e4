"""A page without marks holding forms of different kinds (issue 13): a station's
print-shop BD-27 tag and its 表格04 laid side by side on an A3 flatbed.  The page was
identified once, by the first form code its OCR named, and only that form was read — the
other was left out or refused against the wrong form's layouts.  Now each form's frame is
identified by the title printed around it and read as its own template's registered
variant (extract/beside.page_forms, reader._read_mixed); one without a layout is named,
the others still read; the review page finds each form as the reader did.  Real OCR on
images made by samples.external."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formdesk.extract.beside import MIXED_SLOT
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.extract.variants import RegisteredLayout, line_match
from formdesk.extract.views import variant_form
from formdesk.templates import get_template
from samples.external import Placed, external_blank, filled_tag, on_flatbed, registered, shoot
from samples.scoring import outcomes

KEY = b"k" * 32
CODES = ("SH-ZH/BD-27", "表格04")


@pytest.fixture(scope="module")
def engine():
    return default_engine()


@pytest.fixture(scope="module")
def layouts(engine) -> dict[str, RegisteredLayout]:
    """Each form registered from a scan of its blank alone."""
    out = {}
    for code in CODES:
        scan = shoot(external_blank(code).page(), "scan", np.random.default_rng(100))
        out[code] = registered(scan, code, engine)[0]
    return out


@pytest.fixture(scope="module")
def bed() -> tuple[bytes, dict[str, dict]]:
    """One A3 flatbed scan (JPEG) of a filled BD-27 tag (left) and a filled 表格04
    (right), and the values written on each."""
    rng = np.random.default_rng(81)
    tag, tag_values = filled_tag(external_blank(CODES[0]), rng)
    form, form_values = filled_tag(external_blank(CODES[1]), rng)
    image = on_flatbed(
        [tag, form], [Placed(70, 100, 0.5), Placed(300, 150, -0.3)], rng, bed_mm=(420, 297)
    )
    return cv2.imencode(".jpg", image)[1].tobytes(), {CODES[0]: tag_values, CODES[1]: form_values}


def _reader(engine, layouts, have):
    return FormReader(KEY, engine, layouts=lambda c: [layouts[c]] if c in have else [])


def test_each_form_is_read_as_its_own_layout(engine, layouts, bed):
    data, values = bed
    result = _reader(engine, layouts, CODES).read_file(data, "bed.jpg")
    assert result.problems == []
    by = {r.template: r for r in result.records}
    assert sorted(by) == sorted(CODES), result.records
    for code, record in by.items():
        assert record.identified_by == "layout"
        got = outcomes(record, get_template(code), values[code])
        filled = [o for o in got if o.truth is not None]
        assert sum(o.correct for o in filled) >= 0.9 * len(filled), [
            o for o in filled if not o.correct
        ]
        assert [o for o in got if o.status == "ok" and not o.correct] == []
        # the review page shows each form as the reader aligned it
        slot = record.pages[0].slot
        assert slot >= MIXED_SLOT and record.document_id.endswith(f"S{slot}")
        flat = variant_form(data, "bed.jpg", 0, code, layouts[code], slot=slot, key=KEY,
                            engine=engine)  # fmt: skip
        assert flat.shape[:2] == layouts[code].reference.shape[:2]
        assert line_match(layouts[code].reference, cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)) >= 0.8


def test_a_form_without_a_layout_is_named_and_the_other_read(engine, layouts, bed):
    data, _values = bed
    result = _reader(engine, layouts, ["表格04"]).read_file(data, "bed.jpg")
    (record,) = result.records
    assert record.template == "表格04"
    (problem,) = result.problems
    assert "的一张 SH-ZH/BD-27 保修零部件鉴别标签" in problem.reason, problem.reason
    assert "没有登记它的版式" in problem.reason and "另有" not in problem.reason


@pytest.mark.parametrize(("seed", "tag_x_mm", "tag_y_mm"), [(81, 98.0, 100.0), (82, 118.0, 150.0)])
def test_a_neighbours_title_does_not_name_a_form(engine, layouts, seed, tag_x_mm, tag_y_mm):
    """The part of the image a form's title is looked for in reaches a neighbour's title
    when they lie close (a 24–44 mm gap between the papers): the title nearest each form's
    frame names it, so each is read as its own kind."""
    rng = np.random.default_rng(seed)
    tag, _ = filled_tag(external_blank(CODES[0]), rng)
    form, _ = filled_tag(external_blank(CODES[1]), rng)
    image = on_flatbed(
        [tag, form],
        [Placed(tag_x_mm, tag_y_mm, 0.3), Placed(300, 150, -0.3)],
        rng,
        bed_mm=(420, 297),
    )
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "bed.jpg")
    assert result.problems == [], [p.reason for p in result.problems]
    assert sorted(r.template for r in result.records) == sorted(CODES)


def test_tags_laid_3_mm_apart_are_two_forms(engine, layouts):
    """Two print-shop tags laid 3 mm apart beside an own tag (A3 bed): their papers' edges
    nearly touch, but their frames lie two margins apart, so they stay two forms — the
    smaller was merged away without a word when print joining within 5 mm made one form."""
    from samples.synth import handwritten_page, make_values

    rng = np.random.default_rng(83)
    template = get_template(CODES[0])
    own, _ = handwritten_page(template, make_values(template, rng, p_empty=0.0), rng, KEY)
    a, _ = filled_tag(external_blank(CODES[0]), rng)
    b, _ = filled_tag(external_blank(CODES[0]), rng)
    image = on_flatbed(
        [own, a, b], [Placed(70, 80, 0.3), Placed(200, 150, 0.2), Placed(308, 150, -0.2)], rng,
        bed_mm=(420, 297),
    )  # fmt: skip
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "bed.jpg")
    assert result.problems == [], [p.reason for p in result.problems]
    assert sorted(r.identified_by for r in result.records) == ["layout", "layout", "qr"]


@pytest.mark.parametrize("seed", [92, 93])
def test_forms_of_two_kinds_photographed_on_a_desk(engine, layouts, seed):
    """A phone photo of a BD-27 tag and a 表格04 lying apart on a desk, each turned its own
    few degrees and the camera tilted: a frame turned that much shows no ruled lines as
    such.  One form was left out without a word (seed 92: the tag; seed 93: no frame seen
    level, the page read as the tag alone).  The forms left after those found level are
    levelled on their own print (beside.page_forms), so each is read as its layout."""
    from samples.external import on_desk_together

    rng = np.random.default_rng(seed)
    tag, tag_values = filled_tag(external_blank(CODES[0]), rng)
    form, form_values = filled_tag(external_blank(CODES[1]), rng)
    at = [
        Placed(rng.uniform(80, 110), rng.uniform(90, 230), rng.uniform(-5, 5)),
        Placed(320, 170, rng.uniform(-5, 5)),
    ]
    image = on_desk_together([tag, form], at, rng)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "desk.jpg")
    assert result.problems == [], [p.reason for p in result.problems]
    by = {r.template: r for r in result.records}
    assert sorted(by) == sorted(CODES), result.records
    values = {CODES[0]: tag_values, CODES[1]: form_values}
    for code, record in by.items():
        assert record.identified_by == "layout"
        got = [o for o in outcomes(record, get_template(code), values[code]) if o.truth is not None]
        assert sum(o.correct for o in got) >= 0.9 * len(got), [o for o in got if not o.correct]
        assert [o for o in got if o.status == "ok" and not o.correct] == []


def test_plain_papers_lying_side_by_side_are_no_form(engine, layouts):
    """A phone photo of a filled BD-27 tag on a desk beside three papers that are no form
    (a receipt, a note, a waybill: print, no ruling).  The edges of the two lying side by
    side at the top drew a frame around the desk between them, and the page was said to
    hold a form that could not be named (“上方的一张没有定位标记的表单…”).  A frame that
    holds the ground is no form (beside.ground_inside): the tag alone is read."""
    from samples.external import on_desk_together, plain_paper

    rng = np.random.default_rng(5)
    tag, values = filled_tag(external_blank(CODES[0]), rng)
    papers = [
        plain_paper((150, 110), ["收据", "今收到 维修费 叁佰元整", "经手人 张三"]),
        plain_paper((140, 100), ["便条", "明天上午送件"]),
        plain_paper((130, 95), ["快递单 顺丰", "寄件人 十堰恒通"]),
    ]
    at = [Placed(90, 80, -6), Placed(250, 80, 7), Placed(90, 250, -3.5), Placed(300, 240, 4)]
    image = on_desk_together([*papers, tag], at, rng)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "desk.jpg")
    assert result.problems == [], [p.reason for p in result.problems]
    assert [r.template for r in result.records] == [CODES[0]]
    record = result.records[0]
    assert record.identified_by == "layout"
    got = [o for o in outcomes(record, get_template(CODES[0]), values) if o.truth is not None]
    assert sum(o.correct for o in got) >= 0.9 * len(got), [o for o in got if not o.correct]
    assert [o for o in got if o.status == "ok" and not o.correct] == []


def test_a_form_whose_title_was_not_read_is_read_by_its_shape(engine, layouts):
    """A tag whose code and title are gone (torn off above its frame) beside a 表格04: no
    title names it, and the page's other form is named.  It was left out without a word
    (the page read as the 表格04 alone); now it is read as the registered variant its frame
    has the shape of and aligns on, and its record asks for review saying so."""
    from formdesk.extract.frames import printed_frames
    from formdesk.extract.reader import BY_SHAPE

    rng = np.random.default_rng(84)
    tag, tag_values = filled_tag(external_blank(CODES[0]), rng)
    (frame,) = printed_frames(cv2.cvtColor(tag, cv2.COLOR_BGR2GRAY))
    tag[: frame.bbox[1] - 4] = 255  # the code and the title torn off
    form, _ = filled_tag(external_blank(CODES[1]), rng)
    image = on_flatbed(
        [tag, form], [Placed(70, 100, 0.4), Placed(300, 150, -0.3)], rng, bed_mm=(420, 297)
    )
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "bed.jpg")
    assert result.problems == [], [p.reason for p in result.problems]
    by = {r.template: r for r in result.records}
    assert sorted(by) == sorted(CODES)
    shaped = BY_SHAPE.format(name=layouts[CODES[0]].variant.name, code=CODES[0])
    assert shaped in by[CODES[0]].problems and shaped not in by[CODES[1]].problems
    got = [o for o in outcomes(by[CODES[0]], get_template(CODES[0]), tag_values) if o.truth]
    assert sum(o.correct for o in got) >= 0.9 * len(got)


def test_a_code_is_never_made_of_lines_of_two_bands():
    """The band above a tag read 保修零部件监 and SH-ZH/BD-2 (its 7 lost), the band below
    a stray 1: all the text read together named SH-ZH/BD-21, and the tag was refused as a
    form of that kind.  Each band's lines are read together alone: no form is named."""
    from formdesk.extract.locate import named_around
    from formdesk.extract.ocr import DetectedLine

    class Scripted:
        """The lines the real engine read in each band of that photo, in order."""

        name = "scripted"

        def __init__(self, *bands):
            self.bands = list(bands) + [[]] * 4

        def read_page(self, image):
            h, w = image.shape[:2]
            box = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
            return [DetectedLine(box, t, 0.9) for t in self.bands.pop(0)]

    image = np.full((1200, 900, 3), 255, np.uint8)
    quad = np.float32([[150, 300], [750, 300], [750, 900], [150, 900]])
    assert named_around(image, (quad,), Scripted(["保修零部件监", "SH-ZH/BD-2"], ["1"])) is None
    # a code one figure off (BD-27 read BD-21) and the title line over the same frame: the
    # title names it
    named = named_around(image, (quad,), Scripted(["SH-ZH/BD-21", "保修零部件鉴别标签"]))
    assert named is not None and named.code == "SH-ZH/BD-27"
    # …but a neighbour's title line in the band never outweighs an unlike code
    named = named_around(image, (quad,), Scripted(["表格04", "保修零部件鉴别标签"]))
    assert named is not None and named.code == "表格04"


def test_tags_laid_against_the_beds_edge_are_whole(engine, layouts):
    """Three print-shop tags laid edge to edge on an A4 bed, the right and lower ones
    against the bed's edge (their frames within 6 mm of the image's), and a fourth half
    off the bed, its title too: the half one is named cut, unnamed — and the two against
    the edge, whole, are read (they were named cut once a page holding an unnamed form
    was read form by form)."""
    rng = np.random.default_rng(85)
    tags = [filled_tag(external_blank(CODES[0]), rng)[0] for _ in range(4)]
    places = [Placed(53, 76, 0.2), Placed(158, 76, -0.3), Placed(53, 221, 0.3),
              Placed(196, 221, 0.5)]  # fmt: skip
    image = on_flatbed(tags, places, rng)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "bed.jpg")
    assert [r.template for r in result.records] == [CODES[0]] * 3
    (problem,) = result.problems
    assert problem.reason.count("被图像边缘截断") == 1, problem.reason


def test_a_ruled_table_of_no_form_beside_a_tag_is_named_not_read(engine, layouts):
    """A filled BD-27 tag on an A3 flatbed beside a ruled table that is no form (a parts
    ledger's page: a frame and cells, no title, no code).  The tag is read as its
    registered layout, right; the table is not read against any layout and not dropped
    without a word: the page's problem says where the unnamed one lies."""
    from samples.external import ruled_paper

    rng = np.random.default_rng(3)
    tag, values = filled_tag(external_blank(CODES[0]), rng)
    image = on_flatbed(
        [tag, ruled_paper((120, 70), 4, 3)],
        [Placed(100, 100, 0.4), Placed(320, 200, -0.3)],
        rng,
        bed_mm=(420, 297),
    )
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "bed.jpg")
    assert [r.template for r in result.records] == [CODES[0]]
    assert [p.reason for p in result.problems] == [
        "右下的一张没有定位标记的表单,无法确定是哪种表单,未识读;请把它单独扫描后上传"
    ]
    got = [o for o in outcomes(result.records[0], get_template(CODES[0]), values) if o.truth]
    assert sum(o.correct for o in got) >= 0.9 * len(got), [o for o in got if not o.correct]
    assert [o for o in got if o.status == "ok" and not o.correct] == []


def test_a_turned_tag_among_larger_papers_of_no_form_is_read(engine, layouts):
    """A phone photo of a filled BD-27 tag turned 12 degrees on a desk beside four larger
    papers that are no form, each turned its own way.  The tag's frame was found, once the
    image was levelled at another paper's turn, as the page's only form; the page was then
    taken for one paper and refused (“既看不出纸张边缘…”).  A lone form found turned is
    read where it lies when the page has no one outline."""
    from samples.external import on_desk_together, plain_paper

    rng = np.random.default_rng(5)
    tag, values = filled_tag(external_blank(CODES[0]), rng)
    papers = [
        plain_paper((175, 125), ["收据", "今收到 维修费 叁佰元整", "经手人 张三"]),
        plain_paper((170, 120), ["便条", "明天上午送件"]),
        plain_paper((165, 120), ["快递单 顺丰", "寄件人 十堰恒通"]),
        plain_paper((165, 115), ["发票", "金额 壹仟元"]),
    ]
    at = [
        Placed(110, 90, -6), Placed(310, 90, 7), Placed(110, 290, -3.5), Placed(310, 290, 9),
        Placed(500, 190, 12),
    ]  # fmt: skip
    image = on_desk_together([*papers, tag], at, rng, desk_mm=(600.0, 390.0))
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "desk.jpg")
    assert result.problems == [], [p.reason for p in result.problems]
    assert [(r.template, r.identified_by) for r in result.records] == [(CODES[0], "layout")]
    got = [o for o in outcomes(result.records[0], get_template(CODES[0]), values) if o.truth]
    assert sum(o.correct for o in got) >= 0.9 * len(got), [o for o in got if not o.correct]
    assert [o for o in got if o.status == "ok" and not o.correct] == []


def test_a_thumb_and_a_solid_stamp_on_a_tag_leave_it_a_form(engine, layouts):
    """A phone photo of a filled BD-27 tag held down by a thumb over its table's left side,
    a solid red stamp inside it.  Both are dark patches wider than any line; the rule that
    a frame holding the ground is no form (`beside.ground_inside`) took them for the desk
    and the tag vanished without a word.  Only ground running across the frame, side to
    side, makes it no form: the tag is read, and nothing under the thumb is ok and wrong."""
    from formdesk.extract.beside import ground_inside, page_forms
    from formdesk.extract.frames import printed_frames

    rng = np.random.default_rng(6)
    tag, values = filled_tag(external_blank(CODES[0]), rng)
    (frame,) = printed_frames(cv2.cvtColor(tag, cv2.COLOR_BGR2GRAY))
    x, y, w, h = frame.bbox
    cv2.ellipse(tag, (x + 40, y + h // 2), (110, 160), 0, 0, 360, (60, 70, 90), -1)  # thumb
    cv2.circle(tag, (x + w // 2 + 100, y + h // 3), 90, (40, 40, 160), -1)  # solid stamp
    image = _on_plain_desk(tag, rng)
    [found] = page_forms(image)
    gray = cv2.cvtColor(found.image, cv2.COLOR_BGR2GRAY)
    assert ground_inside(gray, found.frame.quad) == 0.0
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = _reader(engine, layouts, CODES).read_file(data, "thumb.jpg")
    assert [r.template for r in result.records] == [CODES[0]], [p.reason for p in result.problems]
    got = [o for o in outcomes(result.records[0], get_template(CODES[0]), values) if o.truth]
    assert [o for o in got if o.status == "ok" and not o.correct] == []
    assert sum(o.correct for o in got) >= 0.5 * len(got)


def _on_plain_desk(piece: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from samples.external import on_desk_together

    return on_desk_together([piece], [Placed(150, 120, 5)], rng, desk_mm=(300.0, 240.0))
