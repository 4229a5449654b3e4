"""A figure the digit classifier doubts at more than FIGURE_VETO (0.5) is never ok on the
OCR's word, both models agreeing or not (issue 10; extract/evidence.py FIGURE_VETO), nor
on a sum that holds (`only_doubtful`); in an integer (a count, a mileage: nothing of its
own checks it) not above INTEGER_FIGURE_VETO (0.1).

The crop is a real handwritten MNIST-digit date (mnist-cal, the calibration half of the
digits) as the reader cut it from a phone photo of 表格15: 2024年8月6日, read 2024年5月6日 at
0.886 with the second view agreeing; the classifier gives the 5 to an 8 (0.576), and the
second model reads the same too (0.592)."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from formdesk.extract.charsets import charset
from formdesk.extract.checks import apply_cross_checks
from formdesk.extract.evidence import (
    FIGURE_DOUBT,
    FIGURE_VETO,
    INTEGER_FIGURE_VETO,
    figure_limit,
    only_doubtful,
    same_value,
)
from formdesk.extract.figure_check import figure_opinion
from formdesk.extract.ocr import default_engine
from formdesk.extract.ocr.cross import cross_model
from formdesk.model.record import FieldReading
from formdesk.templates import get_template
from formdesk.templates.schema import FieldType

HANDS = Path(__file__).parent / "data" / "hands"


@pytest.mark.skipif(cross_model() is None, reason="the second model is not installed")
def test_a_doubted_mnist_date_both_models_misread_is_vetoed():
    crop = cv2.imread(str(HANDS / "mnist_date_doubt.png"))
    chars = charset(FieldType.date)
    first = default_engine().recognize([crop], chars)[0]
    assert first.text == "2024年5月6日", first.text  # the 8 misread, as on the photo
    other = cross_model().recognize([crop], chars)[0]
    assert same_value(first.text, other.text), other.text  # both models read it so
    opinion = figure_opinion(crop, first.text, first.char_x)
    assert first.text[opinion.at] == "5" and opinion.other == "8", opinion
    assert opinion.doubt > FIGURE_VETO, opinion  # vetoed, whatever the models say


@pytest.mark.parametrize("name", ["longcang_datetime_0.png", "longcang_datetime_1.png"])
def test_figures_the_classifier_trusts_are_not_vetoed(name):
    crop = cv2.imread(str(HANDS / name))
    first = default_engine().recognize([crop], charset(FieldType.datetime))[0]
    opinion = figure_opinion(crop, first.text, first.char_x)
    assert opinion.seen and opinion.doubt <= FIGURE_VETO, opinion


def test_a_mileage_the_classifier_doubts_a_little_is_not_ok():
    """A real MNIST-digit mileage (mnist-cal, cal seed 29, a 表格18 photo): 1240 read 1940
    by both views at 0.99, the second model agreeing; the classifier gives the 9 to
    another figure at 0.19 — under FIGURE_VETO, over an integer's limit.  The same doubt
    leaves an amount, a date or a phone number ok."""
    crop = cv2.imread(str(HANDS / "mnist_mileage_doubt.png"))
    first = default_engine().recognize([crop], charset(FieldType.integer))[0]
    assert first.text == "1940", first.text  # the 2 misread, as on the photo
    opinion = figure_opinion(crop, first.text, first.char_x)
    assert first.text[opinion.at] == "9", opinion
    assert INTEGER_FIGURE_VETO < opinion.doubt <= FIGURE_VETO, opinion
    assert opinion.doubt > figure_limit(FieldType.integer)
    for other in (FieldType.money, FieldType.date, FieldType.phone, FieldType.text):
        assert opinion.doubt <= figure_limit(other)


@pytest.mark.parametrize(("doubt", "status"), [(0.19, "check"), (0.05, "ok")])
def test_the_reader_sends_a_doubted_integer_to_review(monkeypatch, doubt, status):
    """The reader itself, on a 表格18 page holding that mileage in its box: with the
    classifier doubting the 9 at 0.19 (as on the photo) the reading goes to review naming
    the figure; at 0.05 it stays ok (the classifier's opinion is set here, the reading is
    the real engines')."""
    import numpy as np

    import formdesk.extract.fields as fields
    from formdesk.extract.align import PX_PER_MM
    from formdesk.extract.figure_check import FigureOpinion
    from formdesk.extract.ink import FormImage
    from formdesk.templates.layout import value_rect

    template = get_template("表格18")
    field = next(f for f in template.fields if f.key == "mileage_km")
    v = value_rect(template, field)
    g = template.geometry
    page = np.full((round(g.height * PX_PER_MM), round(g.width * PX_PER_MM), 3), 250, np.uint8)
    crop = cv2.imread(str(HANDS / "mnist_mileage_doubt.png"))
    h, w = crop.shape[:2]
    y, x = round((v.y + v.h / 2) * PX_PER_MM - h / 2), round((v.x + 2) * PX_PER_MM)
    page[y : y + h, x : x + w] = np.minimum(page[y : y + h, x : x + w], crop)
    form = FormImage.build(page, np.zeros(page.shape[:2], bool))
    opinion = FigureOpinion(seen=4, doubt=doubt, at=1, other="2")
    monkeypatch.setattr(fields, "figure_opinion", lambda *a, **k: opinion)
    got = fields.read_field(fields.ReadContext(form, template, default_engine()), field)
    assert got.value == 1940 and got.status == status, got
    if status == "check":
        assert got.reason == FIGURE_DOUBT.format(at=2, other="2", read="9")
    assert f"fig:{doubt:.3f}" in got.evidence


def _money(key: str, value: str, reason: str | None = None) -> FieldReading:
    return FieldReading(
        key=key, label=key, type="money", value=value, raw=value,
        status="check" if reason else "ok", confidence=0.95, reason=reason,
        evidence=["ocr:0.950", "ink", "fig:0.610" if reason else "fig:0.010"],
    )  # fmt: skip


def test_a_sum_that_holds_does_not_settle_a_doubted_figure():
    """One writer's 5 read 6 in a part and in the total keeps the sum holding (120.00 +
    80.60 = 200.60 for 80.50 and 200.50): a figure the classifier doubts stays for review;
    the figures it trusts get the sum as evidence."""
    doubted = FIGURE_DOUBT.format(at=4, other="5", read="6")
    fields = [
        _money("labor_fee", "120.00"),
        _money("material_fee", "80.60", doubted),
        _money("total_fee", "200.60", doubted),
    ]
    assert not only_doubtful(fields[2])
    apply_cross_checks(get_template("SH-ZH/BD-21"), fields)
    assert [f.status for f in fields] == ["ok", "check", "check"]
    assert fields[2].reason == doubted and "sum" in fields[0].evidence
