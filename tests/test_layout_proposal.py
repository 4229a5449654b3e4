"""Registering a layout formdesk did not print (issue 13): from one scan or photo of a
blank typeset elsewhere (tests/data/external, bench/external/make_forms.py), the proposal
boxes at least 90 % of the fields right without help; real OCR, real images."""

from __future__ import annotations

import numpy as np
import pytest

from formdesk.extract.layout_proposal import normalise, propose_layout
from formdesk.extract.ocr import default_engine
from formdesk.extract.page_outline import PageOutlineError, flatten_page
from formdesk.extract.ruling import fingerprint, ruling, similarity
from formdesk.templates import get_template
from samples.external import external_blank, external_blanks, score_proposal, shoot

CODES = ["SH-ZH/BD-27", "SH-ZH/BD-31", "表格04"]


@pytest.fixture(scope="module")
def engine():
    return default_engine()


def test_the_test_set_has_the_acceptance_forms():
    codes = {b.code for b in external_blanks()}
    assert set(CODES) <= codes
    for b in external_blanks():
        template = get_template(b.code)
        keys = {f.key for f in template.fields}
        assert set(b.truth["fields"]) <= keys  # the generator names the template's fields
        assert b.truth["line_error_mm"] < 0.6


@pytest.mark.parametrize(("code", "kind"), [(c, "scan") for c in CODES] + [("表格04", "photo")])
def test_proposal_boxes_nine_fields_in_ten(code, kind, engine):
    blank = external_blank(code)
    rng = np.random.default_rng([13, len(code), len(kind)])
    proposal = propose_layout(shoot(blank.page(), kind, rng), get_template(code), engine)
    score = score_proposal(blank, proposal)
    assert score.total == len(blank.true_boxes())
    assert score.share >= 0.9, (score.wrong, score.missing)
    # the reference is the page at 200 dpi, paper size
    g = get_template(code).geometry
    assert abs(proposal.reference.shape[1] / (200 / 25.4) - g.width) < 1
    assert abs(proposal.reference.shape[0] / (200 / 25.4) - g.height) < 1
    if code == "表格04":  # where each □ of a choice is printed, left to right
        cat = next(f for f in proposal.fields if f.key == "repair_category")
        assert set(cat.options) == {"机电", "钣喷", "改装"}
        xs = [cat.options[o][0] for o in ("机电", "钣喷", "改装")]
        assert xs == sorted(xs)
        x, _, w, _ = cat.box
        assert all(x <= ox and ox + ow <= x + w for ox, _, ow, _ in cat.options.values())


def test_fingerprints_tell_layouts_apart():
    rng = np.random.default_rng(5)
    prints = {}
    for b in external_blanks():
        g = get_template(b.code).geometry
        for n in range(2):
            page = flatten_page(shoot(b.page(), "scan", rng), (g.width, g.height))
            gray = page[..., 0]
            prints[(b.code, n)] = fingerprint(ruling(gray))
    for code in CODES:
        same = similarity(prints[(code, 0)], prints[(code, 1)])
        others = [similarity(prints[(code, 0)], prints[(o, 1)]) for o in CODES if o != code]
        assert same > 0.9 and max(others) < same - 0.2, (code, same, others)


def test_an_image_that_is_no_page_is_refused_in_chinese():
    wide = np.full((400, 1600, 3), 235, np.uint8)  # a strip: neither outline nor paper shape
    with pytest.raises(PageOutlineError, match="纸张"):
        flatten_page(wide, (105.0, 148.0))


def test_normalise_drops_punctuation_and_boxes():
    assert normalise("来件单位:") == "来件单位"
    assert normalise("机电□ 钣喷□") == "机电钣喷"
