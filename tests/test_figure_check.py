"""The digit classifier's opinion of each figure read (extract/figure_check.py): on figures
written with a handwriting font and read by the real engine, the figures read right are not
doubted, a figure read wrong is — and the classifier names the figure written there; where no
figure stands alone, it abstains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from formdesk.extract.charsets import charset
from formdesk.extract.figure_check import figure_opinion
from formdesk.extract.ocr import default_engine
from formdesk.extract.ocr.digits import GLYPH, DigitNet, digit_net, normalize_glyph
from formdesk.templates.schema import FieldType

WENKAI = "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"
UKAI = "/usr/share/fonts/truetype/arphic/ukai.ttc"


def _written(text: str, font_path: str = WENKAI, px: int = 44, gap: int = 6) -> np.ndarray:
    font = ImageFont.truetype(font_path, px)
    w = int(sum(font.getlength(c) + gap for c in text)) + 24
    im = Image.new("L", (w, px + 16), 255)
    draw = ImageDraw.Draw(im)
    x = 12.0
    for c in text:
        draw.text((x, 6), c, font=font, fill=0)
        x += font.getlength(c) + gap
    return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def engine():
    return default_engine()


def test_the_weights_ship_with_the_package():
    net = digit_net()
    assert net is not None
    blank = np.zeros((3, GLYPH, GLYPH), np.float32)
    p = net.probabilities(blank)
    assert p.shape == (3, 10) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_missing_weights_raise_oserror(tmp_path: Path):
    with pytest.raises(OSError):
        DigitNet.load(tmp_path / "none.npz")


def test_a_glyph_without_ink_is_refused():
    with pytest.raises(ValueError):
        normalize_glyph(np.zeros((10, 10), bool))


@pytest.mark.parametrize(
    ("written", "t", "font"),
    [
        ("153957", FieldType.integer, WENKAI),
        ("2025-11-20", FieldType.date, WENKAI),
        ("13907311234", FieldType.phone, UKAI),
        ("4680.25", FieldType.money, UKAI),
    ],
)
def test_figures_read_right_are_not_doubted_and_a_wrong_one_is(engine, written, t, font):
    crop = _written(written, font)
    r = engine.recognize([crop], charset(t))[0]
    assert r.text == written and len(r.char_x) == len(r.text)
    right = figure_opinion(crop, r.text, r.char_x)
    figures = sum(c.isdigit() for c in written)
    assert right.seen >= figures - 1  # every figure stands alone (a 1 may touch a neighbour)
    assert right.doubt < 0.5, right
    # the same ink, one figure read otherwise: the classifier names what is written there
    i = next(i for i, c in enumerate(written) if c.isdigit() and c not in "17")
    wrong_digit = "7" if written[i] != "7" else "1"
    misread = written[:i] + wrong_digit + written[i + 1 :]
    opinion = figure_opinion(crop, misread, r.char_x)
    assert opinion.doubt > 0.9 and opinion.at == i and opinion.other == written[i], opinion


def test_an_empty_crop_has_no_opinion():
    assert figure_opinion(np.zeros((0, 0, 3), np.uint8), "12", [1.0, 2.0]).seen == 0


def test_no_figure_no_opinion(engine):
    crop = _written("过热无法启动")
    r = engine.recognize([crop], None)[0]
    assert figure_opinion(crop, r.text, r.char_x).seen == 0


@pytest.mark.parametrize("odd", ["₂", "²", "２", "٣"])
def test_digits_the_classifier_has_no_class_for_are_not_judged(odd):
    # str.isdigit() holds for subscripts, full-width and Arabic-Indic digits
    crop = _written("12" + odd)
    opinion = figure_opinion(crop, "12" + odd, [20.0, 44.0, 68.0])
    assert opinion.at in (None, 0, 1)


def test_figures_written_together_are_not_judged():
    # two figures drawn into each other: one piece, two characters — the classifier abstains
    crop = _written("38", gap=-22)
    opinion = figure_opinion(crop, "38", [20.0, 34.0])
    assert opinion.seen == 0


def test_a_figure_the_classifier_doubts_is_never_ok(monkeypatch):
    """On a real scan read by the real engines: with a type's figure-doubt limit at 0, every
    OCR'd field whose figures the classifier saw and doubted at all goes to review, naming
    the figure and what the classifier took it for; with the calibrated rules no ok field
    carries more doubt than its type allows (nor than the fixed `figure_limit`), and every
    field whose figures the classifier saw says how much it doubted them."""
    from dataclasses import replace

    import formdesk.extract.fields as fields
    from formdesk.extract.evidence import figure_limit, rule_for
    from formdesk.extract.reader import FormReader

    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "0000.jpg"
    reader = FormReader(b"formdesk-synth", default_engine())
    calibrated = reader.read_file(scan.read_bytes(), scan.name).records
    for record in calibrated:
        for f in record.fields:
            doubt = next((float(str(e)[4:]) for e in f.evidence if str(e).startswith("fig:")), 0.0)
            if f.status == "ok" and "ocr" in {str(e).split(":")[0] for e in f.evidence}:
                limit = min(rule_for(f.type).max_figure_doubt, figure_limit(FieldType(f.type)))
                assert doubt <= limit, (f.key, f.evidence)

    monkeypatch.setattr(fields, "rule_for", lambda t: replace(rule_for(t), max_figure_doubt=0.0))
    strict = reader.read_file(scan.read_bytes(), scan.name).records
    doubted = [
        f
        for record in strict
        for f in record.fields
        if any(str(e).startswith("fig:") for e in f.evidence)
    ]
    assert len(doubted) >= 3
    for f in doubted:
        assert f.status != "ok", (f.key, f.evidence)
    assert any(f.reason and f.reason.startswith("单独看第") for f in doubted)


def test_a_figure_cut_at_the_crops_side_is_not_judged(engine, monkeypatch):
    """A phone number written against its cell's printed line (an external 表格04): the
    line is taken out with the print and the first 0 is cut to a ɔ, which the classifier
    took for a 1 or a 7 at 0.77–1.0.  A piece reaching the crop's side is a part of a
    figure and is not judged (`CUT_SIDE_PX`); a whole line's first figure is."""
    import formdesk.extract.figure_check as fc

    whole = _written("0719-3991")
    ink = np.nonzero((whole[..., 0] < 128).any(axis=0))[0]
    cut = whole[:, ink[0] + 8 :]  # the 0's left side gone under the line
    r = engine.recognize([cut], charset(FieldType.phone))[0]
    assert r.text == "0719-3991", r
    w = engine.recognize([whole], charset(FieldType.phone))[0]
    judged = figure_opinion(cut, r.text, r.char_x).seen
    judged_whole = figure_opinion(whole, w.text, w.char_x).seen
    monkeypatch.setattr(fc, "CUT_SIDE_PX", -1)  # every piece judged, the cut one too
    assert figure_opinion(cut, r.text, r.char_x).seen == judged + 1
    assert figure_opinion(whole, w.text, w.char_x).seen == judged_whole  # nothing cut
