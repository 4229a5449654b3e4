"""Small forms formdesk did not print, on a bigger image (issue 13): the BD-27 print-shop
tag (105 × 148 mm, tests/data/external) laid on an A4 flatbed or photographed on a desk
from further away, and several filled tags scanned together on one A4 page.  Registering
finds the tag inside the image (not the scanner bed as the page); reading finds each
tag's printed frame, aligns it on the registered variant and reads it as a record of its
own; a tag cut off at the image's edge is refused with a reason naming where it lies,
the others still read.  Real OCR, images made by samples.external."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from formdesk.extract.frames import frame_shapes_match, place_name, printed_frames
from formdesk.extract.ocr import default_engine
from formdesk.extract.reader import FormReader
from formdesk.extract.variants import RegisteredLayout, line_match
from formdesk.extract.views import variant_form
from formdesk.templates import get_template
from samples.external import (
    Placed,
    external_blank,
    filled_tag,
    on_desk,
    on_flatbed,
    registered,
    score_proposal,
    shoot,
)
from samples.scoring import outcomes

KEY = b"k" * 32
CODE = "SH-ZH/BD-27"


@pytest.fixture(scope="module")
def engine():
    return default_engine()


def _variant(image: np.ndarray, engine, name: str) -> tuple[RegisteredLayout, object]:
    return registered(image, CODE, engine, name)


@pytest.fixture(scope="module")
def layout(engine) -> RegisteredLayout:
    """The tag registered from a scan of it alone (the image is the tag)."""
    scan = shoot(external_blank(CODE).page(), "scan", np.random.default_rng(100))
    return _variant(scan, engine, "印刷厂标签")[0]


@pytest.fixture(scope="module")
def tags() -> list[tuple[np.ndarray, dict]]:
    """Four tags filled in by hand, not yet scanned, and the values written."""
    rng = np.random.default_rng(27)
    return [filled_tag(external_blank(CODE), rng) for _ in range(4)]


def test_each_tag_on_a_crowded_bed_is_one_frame(layout):
    """Four blank tags laid edge to edge on the A4 bed, the fourth half off its right
    edge: the papers' edges, their shadows and the lid's border are no frame; four
    frames in reading order, three of the registered frame's shape, the cut one not."""
    blank = external_blank(CODE).page()
    ref = printed_frames(layout.reference)[0]
    for seed in range(3):
        rng = np.random.default_rng([7, seed])
        j = lambda s, rng=rng: float(rng.uniform(-s, s))  # noqa: E731
        places = [Placed(53 + j(0.5), 76 + j(1), j(0.6)), Placed(158 + j(0.5), 76 + j(1), j(0.6)),
                  Placed(53 + j(0.5), 221 + j(1), j(0.6)), Placed(190 + j(6), 221 + j(1), j(1))]  # fmt: skip
        gray = cv2.cvtColor(on_flatbed([blank] * 4, places, rng), cv2.COLOR_BGR2GRAY)
        frames = printed_frames(gray)
        assert [place_name(f, gray.shape) for f in frames] == ["左上", "右上", "左下", "右下"]
        assert [frame_shapes_match(f, ref.aspect) for f in frames] == [True] * 3 + [False]
        assert frames[3].at_edge


def _read(reader: FormReader, image: np.ndarray):
    return reader.read_file(cv2.imencode(".jpg", image)[1].tobytes(), "tags.jpg")


def _check_reads(record, values) -> None:
    """Nine filled fields in ten read right, nothing wrong passed as ok."""
    got = outcomes(record, get_template(CODE), values)
    filled = [o for o in got if o.truth is not None]
    right = [o for o in filled if o.correct]
    assert len(right) >= 0.9 * len(filled), [o for o in filled if not o.correct]
    assert [o for o in got if o.status == "ok" and not o.correct] == []


@pytest.mark.parametrize("where", ["flatbed", "desk"])
def test_a_tag_on_a_bigger_image_registers_as_the_tag(where, engine):
    """A blank tag on an A4 flatbed (white or grey lid around it), or photographed on a
    desk filling a sixth of the photo: the reference is the tag at its paper size, not
    the bed or the photo squeezed into it, and nine boxes in ten are right."""
    blank = external_blank(CODE)
    rng = np.random.default_rng([13, len(where)])
    if where == "flatbed":
        image = on_flatbed([blank.page()], [Placed(118, 170, 2.0)], rng)
        assert image.shape[:2] == (2339, 1654)  # the whole A4 bed at 200 dpi
    else:
        image = on_desk(blank.page(), rng, share=0.15)
    _, proposal = _variant(image, engine, where)
    score = score_proposal(blank, proposal)
    assert score.share >= 0.9, (score.wrong, score.missing)
    h, w = proposal.reference.shape[:2]
    assert abs(w / (200 / 25.4) - 105) < 1 and abs(h / (200 / 25.4) - 148) < 1


def test_a_tag_on_an_a4_flatbed_reads_as_one_record(layout, tags, engine):
    reader = FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])
    piece, values = tags[0]
    image = on_flatbed([piece], [Placed(70, 95, -1.5)], np.random.default_rng(3))
    result = _read(reader, image)
    assert result.problems == []
    (record,) = result.records
    assert record.identified_by == "layout" and record.document_id.startswith("EXT-")
    assert not record.document_id.endswith("S0")  # one form on the page: the page's id
    _check_reads(record, values)


def test_a_tag_photographed_on_a_desk_reads(layout, tags, engine):
    reader = FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])
    piece, values = tags[1]
    result = _read(reader, on_desk(piece, np.random.default_rng(4), share=0.15))
    assert result.problems == []
    (record,) = result.records
    _check_reads(record, values)


def test_tags_scanned_together_read_each_as_a_record_and_a_cut_one_is_refused(layout, tags, engine):
    """Four tags on one A4 scan: three whole (top left, top right, bottom left) and one
    laid half off the bed (bottom right).  Three records, each with its own values, in
    reading order (slots 0-2, ids …S0-S2); the cut tag is refused with a reason naming
    where it lies, the page's others read all the same."""
    reader = FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])
    places = [Placed(53, 76, -0.6), Placed(158, 75, 0.5), Placed(53, 222, 0.4),
              Placed(192, 222, -0.5)]  # fmt: skip
    image = on_flatbed([p for p, _ in tags], places, np.random.default_rng(5))
    data = cv2.imencode(".jpg", image)[1].tobytes()
    result = reader.read_file(data, "tags.jpg")
    records = sorted(result.records, key=lambda r: r.pages[0].slot)
    assert [r.pages[0].slot for r in records] == [0, 1, 2]
    assert len({r.document_id for r in records}) == 3
    assert all(r.document_id.endswith(f"S{r.pages[0].slot}") for r in records)
    for record, (_, values) in zip(records, tags[:3], strict=True):
        _check_reads(record, values)
    (problem,) = result.problems
    assert "右下的一张 SH-ZH/BD-27 被图像边缘截断" in problem.reason
    # the review page shows each tag as the reader aligned it: slot 1 is the top right
    flat = variant_form(data, "tags.jpg", 0, CODE, layout, slot=1)
    assert flat.shape[:2] == layout.reference.shape[:2]
    assert line_match(layout.reference, cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)) >= 0.8
    likeness = [_likeness(flat, piece) for piece, _ in tags]
    assert int(np.argmax(likeness)) == 1, likeness


def _likeness(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two pages' blue ink (the hand's writing), blurred over a few mm."""

    def ink(img):
        img = cv2.resize(img, (a.shape[1], a.shape[0])).astype(np.float32)
        blue = np.clip(img[..., 0] - img[..., 2], 0, None)
        return cv2.GaussianBlur(blue, (0, 0), 12).ravel()

    x, y = ink(a), ink(b)
    return float(np.corrcoef(x, y)[0, 1])


def test_tags_laid_any_way_round_on_the_bed_each_read(layout, tags, engine):
    """Three tags on one A4 scan, as a clerk lays them: one upright, one upside down, one
    sideways across the bottom.  Each is found by its printed frame (a sideways table's
    rows run down the image), turned upright on its variant and read as its own record;
    none is dropped without a word."""
    reader = FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])
    places = [Placed(53, 76, 0.4), Placed(158, 75, 180.5), Placed(105, 225, 90.3)]
    image = on_flatbed([p for p, _ in tags[:3]], places, np.random.default_rng(9))
    assert len(printed_frames(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))) == 3
    result = reader.read_file(cv2.imencode(".jpg", image)[1].tobytes(), "tags.jpg")
    assert result.problems == []
    records = sorted(result.records, key=lambda r: r.pages[0].slot)
    assert [r.pages[0].slot for r in records] == [0, 1, 2]
    for record, (_, values) in zip(records, tags[:3], strict=True):
        _check_reads(record, values)


@pytest.fixture(scope="module")
def own_and_print_shop(tags):
    """One A4 flatbed scan of two BD-27 tags: formdesk's own (marks and QR, top) and a
    station's print-shop tag (no marks, bottom); and the values written on each."""
    from samples.synth import handwritten_page, make_values

    rng = np.random.default_rng(61)
    template = get_template(CODE)
    own_values = make_values(template, rng, p_empty=0.0)
    own, _truth = handwritten_page(template, own_values, rng, KEY)
    piece, values = tags[2]
    image = on_flatbed([own, piece], [Placed(105, 76, 0.4), Placed(105, 222, -0.5)], rng)
    return image, own_values, values


def test_a_print_shop_tag_beside_an_own_tag_is_read_too(layout, tags, own_and_print_shop, engine):
    """The marks find formdesk's tag; the print-shop tag beside it has none and was left
    out without a word (extract/beside.py). Now both are records: the own tag by its QR,
    the other as its registered layout, with an id of its own (…S1)."""
    image, own_values, values = own_and_print_shop
    reader = FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])
    result = _read(reader, image)
    assert result.problems == []
    by = {r.identified_by: r for r in result.records}
    assert sorted(by) == ["layout", "qr"], result.records
    assert not by["qr"].document_id.startswith("EXT-")
    assert by["layout"].document_id.startswith("EXT-") and by["layout"].document_id.endswith("S1")
    _check_reads(by["layout"], values)
    own = outcomes(by["qr"], get_template(CODE), own_values)
    filled = [o for o in own if o.truth is not None]
    assert sum(o.correct for o in filled) >= 0.9 * len(filled)
    # the review page shows the print-shop tag as the reader aligned it, found beside the
    # own tag with the installation's key (without it, slot 1 would be counted among the
    # frames of the variant's shape alone)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    slot = by["layout"].pages[0].slot
    flat = variant_form(data, "tags.jpg", 0, CODE, layout, slot=slot, key=KEY, engine=engine)
    assert flat.shape[:2] == layout.reference.shape[:2]
    assert line_match(layout.reference, cv2.cvtColor(flat, cv2.COLOR_BGR2GRAY)) >= 0.8
    assert _likeness(flat, tags[2][0]) > 0.5, _likeness(flat, tags[2][0])


@pytest.mark.parametrize("angle", [8.0, 90.3])
def test_a_tag_turned_or_sideways_beside_an_own_tag_is_read(layout, tags, angle, engine):
    """A print-shop tag laid 8° aslant beside formdesk's own tag shows no ruled lines as
    such (it was dropped without a word: the page is levelled on its print with the own
    paper painted out); one laid sideways has its title beside its frame, not above it."""
    from samples.synth import handwritten_page, make_values

    rng = np.random.default_rng(62)
    template = get_template(CODE)
    own, _ = handwritten_page(template, make_values(template, rng, p_empty=0.0), rng, KEY)
    piece, values = tags[3]
    image = on_flatbed([own, piece], [Placed(105, 76, 0.3), Placed(105, 222, angle)], rng)
    reader = FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])
    result = _read(reader, image)
    assert result.problems == []
    by = {r.identified_by: r for r in result.records}
    assert sorted(by) == ["layout", "qr"], result.records
    _check_reads(by["layout"], values)


def test_a_tag_beside_an_own_tag_without_a_layout_is_named_not_dropped(own_and_print_shop, engine):
    """With no layout registered for it, the print-shop tag is not read, and the page's
    problem says where it lies and why; formdesk's own tag still reads."""
    image, _own_values, _values = own_and_print_shop
    result = _read(FormReader(KEY, engine, layouts=lambda c: []), image)
    (record,) = result.records
    assert record.identified_by == "qr"
    (problem,) = result.problems
    assert "下方另有一张 SH-ZH/BD-27" in problem.reason and "没有登记它的版式" in problem.reason


def _with_foreign_qr(piece: np.ndarray) -> np.ndarray:
    """The tag with a supplier's QR code (not formdesk's payload) printed in its lower
    right margin, 12 mm square."""
    from formdesk.render.marks import qr_modules

    modules = qr_modules("https://example.com/trace/A88780822E")
    n = modules.shape[0] + 8  # quiet zone of 4 modules
    side = round(12 * 200 / 25.4)
    code = np.full((n, n), 255, np.uint8)
    code[4:-4, 4:-4] = np.where(modules, 0, 255)
    code = cv2.resize(code, (side, side), interpolation=cv2.INTER_NEAREST)
    out = piece.copy()
    h, w = out.shape[:2]
    out[h - side - 4 : h - 4, w - side - 4 : w - 4] = code[..., None]
    return out


def test_a_tag_printing_a_suppliers_qr_beside_an_own_tag_is_read(layout, tags, engine):
    """Any QR code is no mark of formdesk's own: a print-shop tag carrying a supplier's
    trace code is read as its layout, not refused as formdesk's with lost marks."""
    from samples.synth import handwritten_page, make_values

    rng = np.random.default_rng(63)
    template = get_template(CODE)
    own, _ = handwritten_page(template, make_values(template, rng, p_empty=0.0), rng, KEY)
    piece, values = tags[1]
    image = on_flatbed(
        [own, _with_foreign_qr(piece)], [Placed(105, 76, 0.3), Placed(105, 222, -0.4)], rng
    )
    reader = FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])
    result = _read(reader, image)
    assert result.problems == [], [p.reason for p in result.problems]
    by = {r.identified_by: r for r in result.records}
    assert sorted(by) == ["layout", "qr"], result.records
    _check_reads(by["layout"], values)


@pytest.mark.parametrize("angle", [6.0, -6.0])
def test_a_turned_tag_cut_at_the_beds_edge_beside_an_own_tag_is_named_cut(
    tags, engine, layout, angle
):
    """A print-shop tag 6° aslant either way, 20 mm off the bed's left edge: the image is levelled
    to find it, and its frame is still cut at the scan's edge (not at the levelled image's,
    which lies elsewhere), so the page says so instead of reading part of a tag."""
    from samples.synth import handwritten_page, make_values

    rng = np.random.default_rng(64)
    template = get_template(CODE)
    own, _ = handwritten_page(template, make_values(template, rng, p_empty=0.0), rng, KEY)
    image = on_flatbed([own, tags[2][0]], [Placed(120, 76, 0.3), Placed(32, 222, angle)], rng)
    reader = FormReader(KEY, engine, layouts=lambda c: [layout] if c == CODE else [])
    result = _read(reader, image)
    assert [r.identified_by for r in result.records] == ["qr"]
    (problem,) = result.problems
    assert "被图像边缘截断" in problem.reason, problem.reason
