"""The review rules live in one place (formdesk.model.record, issue 11): which reading a
person must look at, how many fields that makes, a record's status, a table's summary."""

from __future__ import annotations

import pytest

from formdesk.model.record import FieldReading, FormRecord, PageSource, needs_check


def reading(key="f", status="ok", reason=None, value="x", confidence=0.99, rows=None):
    return FieldReading(
        key=key, label=key, type="text", value=value, status=status, reason=reason,
        confidence=confidence, rows=rows,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "reason", "needed"),
    [
        ("ok", None, False),
        ("check", "识别把握不大,请核对", True),
        ("invalid", "不是有效的日期", True),
        ("empty", None, False),  # left blank, and may be
        ("empty", "必填项未填写", True),  # a required field left blank
    ],
)
def test_which_reading_a_person_must_look_at(status, reason, needed):
    assert needs_check(status, reason) is needed
    r = reading(status=status, reason=reason)
    assert r.needs_check is needed
    assert "needs_check" not in r.model_dump(mode="json")  # not stored: derived, never stale


def _record(fields, **kw):
    return FormRecord(
        template="SH-ZH/BD-30", template_version=1, document_id="D", identified_by="qr",
        authentic=kw.pop("authentic", True), residual_mm=0.1,
        pages=[PageSource(file="a.jpg", file_page=0)], fields=fields, **kw,
    )  # fmt: skip


def test_a_tables_cells_count_one_by_one_and_its_summary_follows_them():
    rows = [
        {"a": reading("a"), "b": reading("b", "check", "识别把握不大,请核对", confidence=0.4)},
        {"a": reading("a", "invalid", "不是有效的数量", value=None, confidence=0.0),
         "b": reading("b", "empty", value=None, confidence=1.0)},
    ]  # fmt: skip
    table = reading("t", status="empty", value=None, rows=rows)
    table.summarise_rows()
    assert (table.status, table.confidence) == ("invalid", 0.0)
    assert table.reason == "请核对:第1行b、第2行a"
    assert table.value == [{"a": "x", "b": "x"}, {}]
    rec = _record([reading("vin"), table])
    assert rec.fields_to_check() == 2 and rec.status == "needs_review"
    table.rows[0]["b"] = reading("b")
    table.rows[1]["a"] = reading("a")
    table.summarise_rows()
    assert (table.status, table.reason) == ("ok", None)
    assert _record([reading("vin"), table]).status == "ready"


def test_a_record_needs_review_for_its_problems_and_its_signature():
    assert _record([reading()]).status == "ready"
    assert _record([reading()], problems=["第2页缺失"]).status == "needs_review"
    assert _record([reading()], authentic=False).status == "needs_review"
    assert _record([reading()], authentic=None).status == "ready"  # no QR signature to check
    assert _record([reading(status="empty", reason="必填项未填写")]).fields_to_check() == 1
