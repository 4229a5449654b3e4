"""Readings whose value checks out but which the reader never marks ok (issue 10: wrong
among ok): writing that reaches a box's side, where a figure over the box's line is cut
off (153957 read 53957); a count with a leading 0; a year no form of this network holds."""

from __future__ import annotations

import numpy as np
import pytest

from formdesk.extract.align import PX_PER_MM
from formdesk.extract.fields import AT_SIDE, implausible, writing_at_side
from formdesk.extract.ink import FormImage
from formdesk.templates.geometry import Rect
from formdesk.templates.schema import FieldType
from formdesk.templates.values.vin import model_year

BOX = Rect(10.0, 10.0, 30.0, 8.0)  # mm


def _form(strokes: list[tuple[float, float]]) -> FormImage:
    """A 60 × 30 mm page with upright strokes (x from, x to, in mm) 5 mm tall in BOX."""
    h, w = int(30 * PX_PER_MM), int(60 * PX_PER_MM)
    ink = np.zeros((h, w), bool)
    for x0, x1 in strokes:
        ink[
            int(11.5 * PX_PER_MM) : int(16.5 * PX_PER_MM), int(x0 * PX_PER_MM) : int(x1 * PX_PER_MM)
        ] = True
    flat = np.where(ink, 0, 255).astype(np.uint8)
    colour = np.repeat(flat[:, :, None], 3, axis=2)
    return FormImage(colour, flat, ink, np.zeros_like(ink))


def test_writing_inside_the_box_is_not_at_its_side():
    assert writing_at_side(_form([(14.0, 14.4), (18.0, 20.0), (30.0, 33.0)]), BOX) is None


@pytest.mark.parametrize(
    ("strokes", "side"),
    [
        ([(10.1, 10.5), (14.0, 16.0)], "left"),  # a 1 written on the box's left line
        ([(10.3, 10.9), (14.0, 16.0)], "left"),  # … and just inside it
        ([(20.0, 22.0), (39.4, 39.9)], "right"),
    ],
)
def test_writing_at_a_side_is_found(strokes, side):
    assert writing_at_side(_form(strokes), BOX) == side


def test_a_speck_at_the_side_is_not_writing():
    form = _form([(14.0, 16.0)])
    form.ink[int(12 * PX_PER_MM) : int(12 * PX_PER_MM) + 3, int(10.2 * PX_PER_MM)] = True
    assert writing_at_side(form, BOX) is None


def test_at_side_reason_is_chinese():
    assert "格子边上" in AT_SIDE


@pytest.mark.parametrize(
    ("t", "raw", "value", "doubt"),
    [
        (FieldType.integer, "0006", 6, "0 开头"),
        (FieldType.integer, "0", 0, None),
        (FieldType.integer, "101706", 101706, None),
        (FieldType.month, "2095-10", "2095-10", "2095"),
        (FieldType.date, "1995-03-02", "1995-03-02", "1995"),
        (FieldType.date, "2025-10-29", "2025-10-29", None),
        (FieldType.datetime, "2026-01-02 10:15", "2026-01-02 10:15", None),
        (FieldType.money, "0.50", "0.50", None),
        (FieldType.money, "020.00", "20.00", "0 开头"),  # 620.00, its 6 across the line
        (FieldType.money, "¥0.08", "0.08", None),
        (FieldType.money, "1205.00", "1205.00", None),
        (FieldType.decimal, "03.5", "3.5", "0 开头"),
        (FieldType.decimal, "0.008", "0.008", None),
        # held-out hands: 2025's S read as 5 twice, the check digit still holding
        (FieldType.vin, "LDCX205K851521290", "LDCX205K851521290", "2005 年款"),
        (FieldType.vin, "LSVK7575751549745", "LSVK7575751549745", "2005 年款"),
        (FieldType.vin, "LDCX20SK8S1521290", "LDCX20SK8S1521290", None),
        (FieldType.vin, "LGBH52E09FY000001", "LGBH52E09FY000001", None),  # 2015
        (FieldType.vin, "LGAX2A130UK123456", "LGAX2A130UK123456", "不是年份码"),
    ],
)
def test_implausible_readings(t, raw, value, doubt):
    reason = implausible(t, raw, value)
    if doubt is None:
        assert reason is None
    else:
        assert reason is not None and doubt in reason and reason.endswith("请核对")


def test_a_type_that_asks_for_the_second_model_is_ok_only_with_its_agreement():
    """On a real scan (samples/scans, read by the real engines), every OCR'd field of a
    type whose calibrated rule asks for the second model (extract/calibration.yaml) that
    is ok carries the second model's agreement, and such fields exist."""
    from pathlib import Path

    from formdesk.extract.evidence import rule_for
    from formdesk.extract.ocr import default_engine
    from formdesk.extract.reader import FormReader

    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "0000.jpg"
    reader = FormReader(b"formdesk-synth", default_engine())
    result = reader.read_file(scan.read_bytes(), scan.name)
    records = result if isinstance(result, list) else result.records
    asked = 0
    for record in records:
        for f in record.fields:
            codes = {str(e).split(":")[0] for e in f.evidence}
            if "ocr" not in codes or "lexicon" in codes:
                continue
            rule = rule_for(f.type)
            score = float(next(str(e) for e in f.evidence if str(e).startswith("ocr:"))[4:])
            if not rule.needs_cross or not rule.min_score <= score < rule.agree_below:
                continue
            if "ink" not in codes:
                continue  # sent to review for its unread ink before any second reading
            asked += 1
            assert {"cross", "crossdiff", "crossabstain"} & codes, (f.key, f.evidence)
            if f.status == "ok":
                assert "cross" in codes or rule.abstain_ok and "crossabstain" in codes, f.evidence
            if "cross" in codes:  # the second model's own score, for the review page
                said = next(str(e) for e in f.evidence if str(e).startswith("cross:"))
                assert 0.0 <= float(said[6:]) <= 1.0, f.evidence
    assert asked >= 3


def test_without_the_second_model_a_field_that_needs_it_says_so(monkeypatch):
    """Where the second model's wheel is missing (Python ≥ 3.13), a field whose rule asks
    for it is not ok, and its reason names the missing model, not a disagreement."""
    from pathlib import Path

    import formdesk.extract.fields as fields
    from formdesk.extract.evidence import NO_CROSS_MODEL
    from formdesk.extract.ocr import default_engine
    from formdesk.extract.reader import FormReader

    monkeypatch.setattr(fields, "cross_model", lambda: None)
    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "0000.jpg"
    result = FormReader(b"formdesk-synth", default_engine()).read_file(scan.read_bytes(), "a.jpg")
    reasons = [f.reason for r in result.records for f in r.fields]
    assert NO_CROSS_MODEL in reasons
    assert not any(r and "读作“—”" in r for r in reasons)


class _Garbled:
    """A second model that reads every crop as something no field's check accepts."""

    def recognize(self, crops, charset=None):
        from formdesk.extract.ocr import Recognized

        return [Recognized("#", 0.99, (0.99,), (1.0,)) for _ in crops]


def test_a_second_model_whose_reading_does_not_check_out_abstains(monkeypatch):
    """A VIN whose second model reads something that is no VIN (its check fails): the
    evidence says `crossabstain`, not `crossdiff`; under a rule taking that as no opinion
    (abstain_ok) the VIN is ok on its own check digit, else it waits for review naming
    the second model's reading."""
    from dataclasses import replace
    from pathlib import Path

    import formdesk.extract.fields as fields
    from formdesk.extract import evidence
    from formdesk.extract.ocr import default_engine
    from formdesk.extract.reader import FormReader

    monkeypatch.setattr(fields, "cross_model", lambda: _Garbled())
    scan = Path(__file__).resolve().parents[1] / "samples" / "scans" / "0000.jpg"
    data = scan.read_bytes()

    def vins():
        result = FormReader(b"formdesk-synth", default_engine()).read_file(data, "a.jpg")
        found = [f for r in result.records for f in r.fields if f.type == "vin" and f.value]
        assert found
        return found

    base = evidence.rules()
    vin = replace(base["vin"], min_score=0.0, needs_cross=True, agree_below=1.01)
    for abstain_ok in (False, True):
        table = {**base, "vin": replace(vin, abstain_ok=abstain_ok)}
        monkeypatch.setattr(
            fields,
            "rule_for",
            lambda t, table=table: table.get(
                t.value if hasattr(t, "value") else t, table["default"]
            ),
        )
        judged = 0
        for f in vins():
            codes = {str(e).split(":")[0] for e in f.evidence}
            if "ink" not in codes or "checksum" not in codes:
                continue
            judged += 1
            assert "crossabstain" in codes and "crossdiff" not in codes, f.evidence
            if abstain_ok:
                assert f.status == "ok", (f.key, f.reason, f.evidence)
            else:
                assert f.status == "check" and "另一识读模型读作" in (f.reason or ""), f.reason
        assert judged, "no VIN was judged by the rule"


@pytest.mark.parametrize(
    ("code", "latest", "year"),
    [("S", 2027, 2025), ("5", 2027, 2005), ("A", 2027, 2010), ("Y", 2027, 2000),
     ("9", 2027, 2009), ("1", 2032, 2031), ("T", 2027, 2026), ("U", 2027, None),
     ("0", 2027, None)],
)  # fmt: skip
def test_model_year_of_the_year_code(code, latest, year):
    """ISO 3779 / GB 16735: position 10, a 30-year cycle of codes (1980 A … 2009 9)."""
    assert model_year("LGAX2A130" + code + "K123456", latest) == year
