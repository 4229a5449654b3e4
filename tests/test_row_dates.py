"""Date order within a table's rows (issue 10, point 2: the type's own checks): a monthly
list's dates lie in its month or period, and a row's later date is not before its earlier
one.  A reading that breaks one goes to review with the rule's message, with the field it
is compared with; printing refuses such a row, naming it; the generator never writes one.

The case that asked for it: a 表格08 row's 维修日期 2026/1/6 written with MNIST figures, its
slashes read as 1s — 20261116, a valid date read at 0.96 and agreed by the second view,
2026-11-16, outside the period 2025-12-23–2026-01-14 (seed 283)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from formdesk.extract.checks import apply_cross_checks, implied_spans, summarise_table
from formdesk.model.record import FieldReading
from formdesk.templates import get_template, load_catalog
from formdesk.templates.schema import CrossCheck
from formdesk.templates.values.normalize import FieldValueError, normalize_record
from samples.synth import make_values


def _ok(key: str, value: str, t: str = "date") -> FieldReading:
    return FieldReading(
        key=key, label=key, type=t, value=value, raw=value, status="ok", confidence=0.99,
        evidence=["ocr:0.990", "ink", "agree:0.987"],
    )  # fmt: skip


def _form_08(repair_dates: list[str]) -> list[FieldReading]:
    t = get_template("表格08")
    rows = [{"repair_date": _ok("repair_date", d)} for d in repair_dates]
    table = summarise_table(t.field("quality_problems"), rows)
    return [_ok("period_start", "2025-12-23"), _ok("period_end", "2026-01-14"), table]


def test_a_row_date_outside_the_period_goes_to_review():
    fields = _form_08(["2025-12-27", "2026-11-16", "2025-12-23"])
    apply_cross_checks(get_template("表格08"), fields)
    start, end, table = fields
    cells = [r["repair_date"] for r in table.rows]
    assert [c.status for c in cells] == ["ok", "check", "ok"]
    assert cells[1].reason == "维修日期不在统计期间内"
    # the bound it broke is named too: a misread period end would put every row out
    assert end.status == "check" and start.status == "ok"
    assert table.status == "check"


def test_rows_inside_the_period_are_left_alone():
    fields = _form_08(["2025-12-23", "2026-01-06", "2026-01-14"])
    apply_cross_checks(get_template("表格08"), fields)
    assert all(r["repair_date"].status == "ok" for r in fields[2].rows)
    assert [f.status for f in fields] == ["ok", "ok", "ok"]


def test_a_row_against_its_month_and_its_own_earlier_date():
    t = get_template("表格14")
    rows = [
        {"first_repair_date": _ok("first_repair_date", "2025-07-07"),
         "repeat_repair_date": _ok("repeat_repair_date", "2023-08-27")},  # 2025 read 2023
        {"first_repair_date": _ok("first_repair_date", "2025-07-10"),
         "repeat_repair_date": _ok("repeat_repair_date", "2025-08-10")},
        {"first_repair_date": _ok("first_repair_date", "2025-08-10"),
         "repeat_repair_date": _ok("repeat_repair_date", "2025-09-01")},  # after the month
    ]  # fmt: skip
    fields = [
        _ok("statistics_month", "2025-08", "month"),
        summarise_table(t.field("repeat_repairs"), rows),
    ]
    apply_cross_checks(t, fields)
    got = [(r["first_repair_date"].status, r["repeat_repair_date"].status) for r in rows]
    assert got == [("check", "check"), ("ok", "ok"), ("ok", "check")]
    assert "重复维修日期不能早于首次维修日期" in rows[0]["repeat_repair_date"].reason
    assert "重复维修日期不在统计月份内" in rows[0]["repeat_repair_date"].reason
    assert rows[2]["repeat_repair_date"].reason == "重复维修日期不在统计月份内"


def test_printing_refuses_a_row_outside_its_month_naming_the_row():
    t = get_template("表格14")
    values = {
        "statistics_month": "2025-08",
        "repeat_repairs": [
            {"first_repair_date": "2025-07-07", "repeat_repair_date": "2025-08-27"},
            {"first_repair_date": "2025-07-10", "repeat_repair_date": "2025-09-02"},
        ],
    }
    with pytest.raises(FieldValueError) as e:
        normalize_record(t, values)
    assert e.value.row == 2 and e.value.key == "repeat_repairs.repeat_repair_date"
    assert "第2行" in str(e.value) and "重复维修日期不在统计月份内" in str(e.value)
    values["repeat_repairs"][1]["repeat_repair_date"] = "2025-08-31"
    assert normalize_record(t, values)["repeat_repairs"][1]["repeat_repair_date"] == "2025-08-31"


def test_a_row_rule_names_columns_of_its_own_table_only():
    with pytest.raises(ValidationError):
        CrossCheck(rule="not_before", field="a.x", other="b.y", message="m")
    with pytest.raises(ValidationError):
        CrossCheck(rule="not_before", field="x", other="b.y", message="m")
    with pytest.raises(ValidationError):
        CrossCheck(rule="equals_words", field="a.x", other="a.y", message="m")


@pytest.mark.parametrize(
    "code", [c for c, t in load_catalog().items() if any("." in k.field for k in t.checks)]
)
def test_generated_rows_keep_every_row_rule(code):
    """make_values normalises its record, which applies every rule: no row breaks one."""
    t = get_template(code)
    rng = np.random.default_rng(283)
    for _ in range(40):
        make_values(t, rng)  # raises FieldValueError on a broken rule


def _form_01(pairs: list[tuple[str, str]]) -> list[FieldReading]:
    t = get_template("表格01")
    rows = [
        {
            "appointment_time": _ok("appointment_time", a, "datetime"),
            "promised_delivery_time": _ok("promised_delivery_time", d, "datetime"),
        }
        for a, d in pairs
    ]
    return [summarise_table(t.field("appointments"), rows)]


def test_a_delivery_a_year_after_its_appointment_goes_to_review():
    """Two dates of one job lie within a month (`within_days`): a 表格01 row's promised
    delivery 2025-12-06 15:45 written with MNIST figures was read 2026-12-06 15:45 at
    0.985, both views agreeing (held-out seed 439) — after its appointment, so no order
    rule saw it.  Both readings go to review with the rule's message; a delivery days
    after its appointment, or on the 31st day, is left alone."""
    fields = _form_01(
        [
            ("2025-12-04 09:30", "2026-12-06 15:45"),
            ("2025-12-04 10:00", "2025-12-06 15:45"),
            ("2025-12-01 08:00", "2026-01-01 08:00"),
        ]
    )
    apply_cross_checks(get_template("表格01"), fields)
    rows = fields[0].rows
    assert [r["promised_delivery_time"].status for r in rows] == ["check", "ok", "ok"]
    assert [r["appointment_time"].status for r in rows] == ["check", "ok", "ok"]
    assert rows[0]["promised_delivery_time"].reason == "预计交车时间与预约进厂时间相隔超过31天"


def test_a_delivery_long_after_reception_is_still_printed():
    """The rule judges readings only: a station may promise a car back in six weeks, and
    the 打印 page prints what it is given (the order rules still refuse a delivery before
    its reception)."""
    t = get_template("表格04")
    values = make_values(t, np.random.default_rng(5))
    values["promised_delivery_time"] = "2026-03-20 10:00"
    values["reception_time"] = "2026-02-01 09:00"
    assert normalize_record(t, values)["promised_delivery_time"] == "2026-03-20 10:00"
    values["promised_delivery_time"] = "2026-01-20 10:00"
    with pytest.raises(FieldValueError):
        normalize_record(t, values)


def test_within_days_needs_its_days():
    """`days` goes with `within_days` and only with it; an impossible day breaks nothing."""
    with pytest.raises(ValidationError):
        CrossCheck(rule="within_days", field="x", other="y", message="m")
    with pytest.raises(ValidationError):
        CrossCheck(rule="not_before", field="x", other="y", days=3, message="m")
    check = CrossCheck(rule="within_days", field="x", other="y", days=31, message="m")
    assert check.broken("2026-12-06 15:45", "2025-12-04")
    assert not check.broken("2025-12-06", "2025-12-04 09:30")
    assert not check.broken("2025-13-06", "2025-12-04")  # no such day: not this rule's to say


MONTHLY = {
    "SH-ZH/BD-20": "report_date",
    "SH-ZH/BD-22": "fill_date",
    "SH-ZH/BD-23": "fill_date",
    "SH-ZH/BD-24": "fill_date",
    "SH-ZH/BD-25": "fill_date",
}


@pytest.mark.parametrize("code", sorted(MONTHLY))
def test_a_report_month_far_from_its_filling_goes_to_review(code):
    """A monthly report is filled for the month just past (BD-24: 此表请于次月5日前寄,
    seed 000 line 9): a report month misread by a figure (2025-11 read 2025-01, MNIST
    figures, held-out seed 443) lies ten months before its 填报日期, and both go to review;
    a report filled weeks after its month, or inside it, is left alone."""
    t = get_template(code)
    filled = MONTHLY[code]
    for month, date, status in [
        ("2025-01", "2025-12-03", "check"),
        ("2025-11", "2025-12-03", "ok"),
        ("2025-12", "2025-12-29", "ok"),
        ("2025-10", "2025-12-16", "check"),  # 46 days after 10-31
        ("2025-10", "2025-12-15", "ok"),
    ]:
        fields = [_ok("report_month", month, "month"), _ok(filled, date)]
        apply_cross_checks(t, fields)
        assert [f.status for f in fields] == [status, status], (month, date)
        if status == "check":
            assert "与报表月份相隔超过45天" in fields[0].reason


@pytest.mark.parametrize("code", sorted(MONTHLY))
def test_generated_monthly_reports_keep_their_month(code):
    """The generator's months and filling dates never break the rule (no right reading of
    a generated form goes to review for it)."""
    t = get_template(code)
    check = next(c for c in t.checks if c.rule == "within_days")
    rng = np.random.default_rng(443)
    for _ in range(60):
        v = make_values(t, rng)
        assert not check.broken(v[check.field], v[check.other])


def test_a_month_stands_for_its_days():
    check = CrossCheck(rule="within_days", field="x", other="y", days=5, message="m")
    assert not check.broken("2026-03-05", "2026-02")  # 5 days after 02-28
    assert check.broken("2026-03-06", "2026-02")
    assert not check.broken("2024-03-05", "2024-02")  # 29 February 2024 is in it
    assert check.broken("2024-02-20", "2024-03-31")
    assert not check.broken("2026-02", "2026-02-15")
    assert not check.broken("2026-13", "2026-02-15")  # no such month: not this rule's to say


def test_a_year_misread_beside_an_unread_middle_date_goes_to_review():
    """Rules through a date that was not read still bound the dates around it
    (`implied_spans`): 表格06's 进厂时间 unreadable, its 更改后预计交车时间 2024-03-21 13:20
    read 2014-03-21 13:20 at 0.998, both views and both models agreeing (MNIST figures,
    calibration seed 53).  Its 原约定交车时间 is 31 days from 进厂时间 at most, and so is it:
    62 days from each other.  Both go to review; the same form read right is left alone."""
    t = get_template("表格06")
    for revised, status in [("2014-03-21 13:20", "check"), ("2024-03-21 13:20", "ok")]:
        fields = [
            _ok("original_delivery_time", "2024-03-21 17:15", "datetime"),
            _ok("revised_delivery_time", revised, "datetime"),
            _ok("confirm_time", "2024-03-21 16:44", "datetime"),
        ]
        apply_cross_checks(t, fields)
        assert [f.status for f in fields] == [status, status, "ok" if status == "ok" else "check"]
        if status == "check":
            assert "原约定交车时间与更改后预计交车时间相隔超过62天" in fields[1].reason


def test_implied_spans_are_the_least_bound_through_a_missing_date():
    """An implied rule per pair of dates no rule of the template joins, its days the
    shortest chain through the dates not read; none when every date was read, none
    through a table's column."""
    t = get_template("表格06")
    assert implied_spans(t) == []
    spans = {(c.field, c.other): c.days for c in implied_spans(t, {"checkin_time"})}
    assert spans == {
        ("confirm_time", "original_delivery_time"): 62,
        ("confirm_time", "revised_delivery_time"): 62,
        ("original_delivery_time", "revised_delivery_time"): 62,
    }
    both = {(c.field, c.other): c.days for c in implied_spans(t, {"checkin_time", "confirm_time"})}
    assert both[("dispatch_time", "revised_delivery_time")] == 93
    t01 = get_template("表格01")
    assert implied_spans(t01, {"appointments.appointment_time"}) == []


def test_a_year_misread_with_every_date_read_sends_only_its_own_rules_to_review():
    """With every date read, a misread year breaks its own rules; the right dates around
    it are not sent to review by implied ones (a review of the first version found all
    five of 表格06's dates flagged for one)."""
    t = get_template("表格06")
    fields = [
        _ok("checkin_time", "2024-03-20 09:00", "datetime"),
        _ok("original_delivery_time", "2024-03-21 17:15", "datetime"),
        _ok("revised_delivery_time", "2014-03-21 13:20", "datetime"),
        _ok("confirm_time", "2024-03-21 16:44", "datetime"),
        _ok("dispatch_time", "2024-03-21 17:00", "datetime"),
    ]
    apply_cross_checks(t, fields)
    assert [f.status for f in fields] == ["check", "ok", "check", "ok", "ok"]


@pytest.mark.parametrize(
    "code",
    [c for c, t in load_catalog().items() if any(k.rule == "within_days" for k in t.checks)],
)
def test_generated_forms_keep_every_span(code):
    """No right reading of a generated form goes to review for a `within_days` rule, its
    own or implied (the generator dates one job's times days apart)."""
    t = get_template(code)
    dates = {r for c in t.checks if c.rule == "within_days" for r in (c.field, c.other)}
    checks = [c for c in t.checks if c.rule == "within_days"] + implied_spans(t, dates)
    checks += [c for k in sorted(dates) for c in implied_spans(t, {k})]
    rng = np.random.default_rng(53)
    for _ in range(80):
        v = make_values(t, rng)
        for c in checks:
            for _row, a, b in c.order_operands(v, lambda table, v=v: v.get(table) or []):
                assert a is None or b is None or not c.broken(a, b), (c.field, a, c.other, b)


@pytest.mark.parametrize(
    ("code", "late", "early", "message"),
    [
        ("表格07", "inspection_time", "checkin_time", "检验时间与进厂时间相隔超过31天"),
        ("表格12", "recheck_time", "rework_completed_time", "复检时间与返修完工时间相隔超过31天"),
        ("表格16", "inspection_date", "completion_time", "检查日期与完工时间相隔超过31天"),
        ("表格18", "expected_delivery_time", "entry_time", "预计交车时间与进厂时间相隔超过31天"),
    ],
)
def test_one_jobs_dates_lie_within_a_month(code, late, early, message):
    """Every form that dates one job twice bounds them: a year misread (2025 read 2026)
    after the earlier date passes the order rules, not this one."""
    t = get_template(code)
    kind = {f.key: f.type.value for f in t.fields}
    for later, status in [("2026-12-05 10:20", "check"), ("2025-12-05 10:20", "ok")]:
        if kind[late] == "date":
            later = later[:10]
        fields = [_ok(early, "2025-12-03 09:00", kind[early]), _ok(late, later, kind[late])]
        apply_cross_checks(t, fields)
        assert [f.status for f in fields] == [status, status], (code, later)
        if status == "check":
            assert message in fields[1].reason
