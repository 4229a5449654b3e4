"""The forms' own arithmetic as evidence (issue 10, point 2): 合计 = Σ parts, per form, per
table column and per row. A sum that holds settles readings that were only doubtful; one
that does not sends every reading in it to review; nothing else is touched."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from pydantic import ValidationError

from formdesk.extract.checks import apply_cross_checks, summarise_table
from formdesk.extract.evidence import LOW_SCORE, UNREAD, only_doubtful
from formdesk.model.record import FieldReading
from formdesk.templates import get_template, load_catalog
from formdesk.templates.schema import CrossCheck, Template
from samples.synth import make_values


def _ok(key: str, value, t: str = "money") -> FieldReading:
    return FieldReading(
        key=key, label=key, type=t, value=value, raw=str(value), status="ok", confidence=0.999,
        evidence=["ocr:0.999", "ink", "agree"],
    )  # fmt: skip


def _doubtful(key: str, value, t: str = "money") -> FieldReading:
    return FieldReading(
        key=key, label=key, type=t, value=value, raw=str(value), status="check", confidence=0.62,
        reason=LOW_SCORE, evidence=["ocr:0.620", "ink"],
    )  # fmt: skip


def _unread(key: str, value) -> FieldReading:
    return FieldReading(
        key=key, label=key, type="money", value=value, raw=str(value), status="check", confidence=0.99,
        reason=UNREAD, evidence=["ocr:0.990", "unread"],
    )  # fmt: skip


def _empty(key: str) -> FieldReading:
    return FieldReading(key=key, label=key, type="money", status="empty", confidence=1.0)


def _by_key(fields: list[FieldReading]) -> dict[str, FieldReading]:
    return {f.key: f for f in fields}


def test_a_sum_that_holds_settles_a_doubtful_total():
    t = get_template("SH-ZH/BD-21")
    fields = [
        _ok("labor_fee", "120.00"),
        _ok("material_fee", "80.50"),
        _doubtful("total_fee", "200.50"),
    ]
    apply_cross_checks(t, fields)
    f = _by_key(fields)
    assert f["total_fee"].status == "ok" and f["total_fee"].reason is None
    assert all("sum" in f[k].evidence for k in ("labor_fee", "material_fee", "total_fee"))


def test_a_broken_sum_sends_every_reading_in_it_to_review():
    t = get_template("SH-ZH/BD-21")
    # 7862.50 read 862.50 with full confidence: the sum is what catches it
    fields = [
        _ok("labor_fee", "862.50"),
        _ok("material_fee", "1000.00"),
        _ok("total_fee", "8862.50"),
    ]
    apply_cross_checks(t, fields)
    for f in fields:
        assert f.status == "check"
        assert "费用合计不等于工时费与材料费之和" in (f.reason or "")
        assert "sum" not in f.evidence


def test_one_reading_with_unread_ink_is_settled_by_a_sum_that_pins_it():
    """A figure dropped from one amount would break the sum: the sum pins its value whole."""
    t = get_template("SH-ZH/BD-21")
    fields = [
        _ok("labor_fee", "100.00"),
        _ok("material_fee", "50.00"),
        _unread("total_fee", "150.00"),
    ]
    apply_cross_checks(t, fields)
    f = _by_key(fields)["total_fee"]
    assert f.status == "ok" and f.reason is None and "sum" in f.evidence


def test_two_readings_with_unread_ink_in_one_sum_stay_for_review():
    """1500 + 300 = 1800 read 500 + 300 = 800 — the same 1 dropped twice keeps the sum."""
    t = get_template("SH-ZH/BD-21")
    fields = [
        _unread("labor_fee", "500.00"),
        _ok("material_fee", "300.00"),
        _unread("total_fee", "800.00"),
    ]
    apply_cross_checks(t, fields)
    f = _by_key(fields)
    for key in ("labor_fee", "total_fee"):
        assert f[key].status == "check" and f[key].reason == UNREAD and "sum" in f[key].evidence
        assert not only_doubtful(f[key])


def test_a_blank_part_counts_as_zero_and_a_blank_total_checks_nothing():
    t = get_template("SH-ZH/BD-24")
    fields = [
        _ok("warranty_labor_fee", "300.00"), _doubtful("warranty_material_fee", "1250.00"),
        _empty("warranty_travel_fee"), _ok("warranty_total", "1550.00"),
    ]  # fmt: skip
    apply_cross_checks(t, fields)
    assert _by_key(fields)["warranty_material_fee"].status == "ok"
    blank = [
        _doubtful("paid_labor_fee", "10.00"),
        _ok("paid_material_fee", "5.00"),
        _empty("paid_total"),
    ]
    apply_cross_checks(t, blank)
    assert _by_key(blank)["paid_labor_fee"].status == "check"  # nothing to check it against


def test_an_unreadable_part_skips_the_check():
    t = get_template("SH-ZH/BD-21")
    bad = FieldReading(key="labor_fee", label="工时费", type="money", status="invalid", reason="x")
    fields = [bad, _ok("material_fee", "80.00"), _ok("total_fee", "100.00")]
    apply_cross_checks(t, fields)
    assert _by_key(fields)["total_fee"].status == "ok"


def _table(t: Template, key: str, rows: list[dict[str, FieldReading]]) -> FieldReading:
    return summarise_table(t.field(key), rows)


def test_column_sums_and_row_sums_reach_the_cells_and_the_table_status():
    t = get_template("表格18")
    rows = [
        {
            "labor_fee": _ok("labor_fee", "100.00"),
            "material_fee": _doubtful("material_fee", "35.50"),
        },
        {"labor_fee": _doubtful("labor_fee", "60.00"), "material_fee": _ok("material_fee", "4.50")},
    ]
    table = _table(t, "repair_items", rows)
    assert table.status == "check"
    fields = [
        table, _ok("labor_total", "160.00"), _ok("material_total", "40.00"),
        _doubtful("total_amount", "200.00"),
    ]  # fmt: skip
    apply_cross_checks(t, fields)
    f = _by_key(fields)
    assert [c.status for r in rows for c in r.values()] == ["ok"] * 4
    assert f["repair_items"].status == "ok" and f["total_amount"].status == "ok"

    t6 = get_template("表格06")
    rows6 = [
        {"labor_fee": _ok("labor_fee", "20.00"), "parts_fee": _ok("parts_fee", "5.00"),
         "subtotal": _doubtful("subtotal", "25.00")},
        {"labor_fee": _ok("labor_fee", "20.00"), "parts_fee": _ok("parts_fee", "5.00"),
         "subtotal": _ok("subtotal", "26.00")},
    ]  # fmt: skip
    table6 = _table(t6, "change_items", rows6)
    apply_cross_checks(t6, [table6])
    assert rows6[0]["subtotal"].status == "ok"
    assert all(c.status == "check" for c in rows6[1].values())
    assert table6.status == "check" and "第2行" in (table6.reason or "")


def test_a_point_lost_in_every_figure_keeps_the_sum_but_settles_nothing():
    """34130.00 + 20810.00 = 54940.00 read without their points: 3413000 + 2081000 =
    5494000 still holds, so a sum cannot vouch for an amount read without its point."""
    t = get_template("SH-ZH/BD-20")
    fields = [
        _doubtful("labor_income", "3413000.00"), _doubtful("parts_income", "2081000.00"),
        _doubtful("total_income", "5494000.00"),
    ]  # fmt: skip
    for f in fields:
        f.raw = f.raw.replace(".00", "")
    apply_cross_checks(t, fields)
    assert all(f.status == "check" and "sum" not in f.evidence for f in fields)


def test_amount_is_quantity_times_unit_price():
    t = get_template("表格03")
    rows = [
        {"quantity": _ok("quantity", "4.6", "decimal"), "unit_price": _ok("unit_price", "1536.50"),
         "amount": _doubtful("amount", "7067.90")},
        # the points lost in the price and the quantity, not in the amount: caught
        {"quantity": _ok("quantity", "46.0", "decimal"), "unit_price": _ok("unit_price", "153650.00"),
         "amount": _ok("amount", "7067.90")},
    ]  # fmt: skip
    table = _table(t, "quotation_items", rows)
    apply_cross_checks(t, [table])
    assert rows[0]["amount"].status == "ok" and "sum" in rows[0]["amount"].evidence
    assert all(c.status == "check" for c in rows[1].values())
    assert "金额不等于数量乘以单价" in (rows[1]["amount"].reason or "")


def test_sum_checks_are_validated_when_the_catalog_loads():
    with pytest.raises(ValidationError):
        CrossCheck(rule="sum", field="a", other="b", message="x")
    with pytest.raises(ValidationError):
        CrossCheck(rule="not_before", field="a", parts=["b"], message="x")
    data = get_template("SH-ZH/BD-21").model_dump()
    data["checks"].append({"rule": "sum", "field": "total_fee", "parts": ["nope"], "message": "x"})
    with pytest.raises(ValidationError, match="unknown field nope"):
        Template.model_validate(data)


@pytest.mark.parametrize("seed", range(4))
def test_the_generator_writes_forms_whose_sums_hold(seed):
    """The scans the benches read obey the templates' arithmetic (else a sum check would
    flag right readings)."""
    checked = 0
    for t in load_catalog().values():
        sums = [c for c in t.checks if c.rule in ("sum", "product")]
        if not sums:
            continue
        values = make_values(t, np.random.default_rng(seed), p_empty=0.0)
        for c in sums:
            if "." in c.field:
                table, col = c.field.split(".")
                for row in values.get(table) or []:
                    parts = [Decimal(str(row.get(p.split(".")[1], 0))) for p in c.parts]
                    got = sum(parts) if c.rule == "sum" else parts[0] * parts[1]
                    assert got.quantize(Decimal("0.01")) == Decimal(str(row[col])), (t.code, c)
                    checked += 1
                continue
            total = 0
            for p in c.parts:
                if "." in p:
                    table, col = p.split(".")
                    total += sum(Decimal(str(r[col])) for r in values.get(table) or [])
                else:
                    total += Decimal(str(values.get(p, 0)))
            assert total == Decimal(str(values[c.field])), (t.code, c.field)
            checked += 1
    assert checked >= 15


def test_the_review_page_names_every_kind_of_evidence():
    """review.js shows each evidence code in Chinese; its table is extract/evidence.py's."""
    import re
    from pathlib import Path

    from formdesk.extract.evidence import EVIDENCE_LABELS

    js = (Path(__file__).parents[1] / "api/web/static/review.js").read_text(encoding="utf-8")
    table = js[js.index("const EVIDENCE = {") : js.index("};", js.index("const EVIDENCE = {"))]
    shown = dict(re.findall(r"(\w+): \"([^\"]+)\"", table))
    assert shown == EVIDENCE_LABELS


@pytest.mark.parametrize("both_unread", [False, True])
def test_the_words_amount_settles_figures_with_unread_ink_unless_both_left_some(both_unread):
    t = get_template("表格06")
    words = FieldReading(
        key="revised_estimate_words", label="总金额(大写)", type="money_words", value="壹仟贰佰元整",
        raw="壹仟贰佰元整", status="check" if both_unread else "ok", confidence=0.99,
        reason=UNREAD if both_unread else None,
        evidence=["ocr:0.990", "unread" if both_unread else "ink"],
    )  # fmt: skip
    fields = [words, _unread("revised_estimate", "1200.00")]
    apply_cross_checks(t, fields)
    f = _by_key(fields)["revised_estimate"]
    assert "words" in f.evidence
    assert f.status == ("check" if both_unread else "ok")
