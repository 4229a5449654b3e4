"""Exports are data, not code; every value is checked before it is used (issue 9, points 4
and 7).

Formula-like text arrives the ways it really does: a reviewer's correction (PATCH) and a
claims file imported through the API; the files are then fetched from their routes and
opened with openpyxl and the csv module. Odd values go through PATCH, printing (JSON,
CSV, XLSX and JSON files) and `formdesk render --data`; what is expected of them (labels,
bounds) is read from the catalog and the bounds module, not written here.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from formdesk.render.cells import FORMULA_STARTS, append_row, csv_row
from formdesk.templates import get_template, load_catalog
from formdesk.templates.schema import FieldType
from formdesk.templates.values.bounds import (
    MAX_CHARS,
    MULTILINE_TYPES,
    NUMBER_LIMITS,
    max_chars,
    number_bounds,
    plain,
)
from formdesk.templates.values.normalize import normalize

from ..conftest import sample_values
from .world import EVIL_FAULT, EVIL_MODEL, EVIL_PART, EVIL_STATION, MONTH, World, make_world

TAG = get_template("SH-ZH/BD-27")
FEES = get_template("SH-ZH/BD-21")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    w = make_world(tmp_path_factory.mktemp("exports-values"))
    with TestClient(w.app):
        yield w


def workbook(res) -> Workbook:
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == XLSX_TYPE
    return load_workbook(io.BytesIO(res.content))


def cells(wb: Workbook):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def assert_data_only(wb: Workbook) -> None:
    """No formula anywhere; every text cell a string cell."""
    formulas = [f"{c.parent.title}!{c.coordinate}" for c in cells(wb) if c.data_type == "f"]
    assert not formulas, formulas
    for c in cells(wb):
        if isinstance(c.value, str):
            assert c.data_type == "s", (c.parent.title, c.coordinate, c.value)


def cell_with(wb: Workbook, sheet: str, value: str):
    found = [c for c in wb[sheet].iter_rows() for c in c if c.value == value]
    assert found, f"{value!r} not in sheet {sheet}"
    return found


# -- point 4: exports ------------------------------------------------------------------------


EVIL_CORRECTIONS = {
    "part_name": EVIL_STATION,
    "vehicle_model": EVIL_MODEL,
    "preliminary_finding": EVIL_FAULT,
    "inspection_result": EVIL_PART,
}


def test_corrections_that_look_like_formulas_export_as_text(world):
    for key, value in EVIL_CORRECTIONS.items():
        res = world.office.patch(
            f"/api/records/{world.tag_record}/fields/{key}", json={"value": value}
        )
        assert res.status_code == 200 and res.json()["new_value"] == value, res.text

    res = world.office.get("/api/export.csv", params={"template": TAG.code})
    assert res.status_code == 200, res.text
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    (row,) = [r for r in body if r[header.index("记录号")] == world.tag_record]
    for key, value in EVIL_CORRECTIONS.items():
        assert row[header.index(TAG.field(key).label)] == "'" + value  # OWASP: an apostrophe
    for r in rows:
        for cell in r:
            assert not cell.startswith(FORMULA_STARTS), cell

    wb = workbook(world.office.get("/api/export.xlsx", params={"template": TAG.code}))
    assert_data_only(wb)
    ws = wb[f"SH-ZH-BD-27 {TAG.title}"[:31]]
    header = [c.value for c in ws[1]]
    (row,) = [r for r in ws.iter_rows(min_row=2) if r[0].value == world.tag_record]
    for key, value in EVIL_CORRECTIONS.items():
        cell = row[header.index(TAG.field(key).label)]
        assert cell.value == value and cell.data_type == "s"


def test_claims_that_look_like_formulas_stay_text_in_reconciliation_and_summary(world):
    office = world.office
    report = workbook(
        office.get("/api/reconcile/report.xlsx", params={"station": "HN01", "month": MONTH})
    )
    assert_data_only(report)
    assert any(c.value == EVIL_PART for c in cells(report))
    links = [c for c in cells(report) if c.hyperlink is not None]
    assert links, "the evidence cells link to the review page"
    for c in links:  # formdesk's own links keep working, their cells stay text
        assert c.hyperlink.target.startswith("http://testserver/review/")
        assert isinstance(c.value, str) and c.data_type == "s"

    evil = world.evil_station
    assert evil == EVIL_STATION
    report = workbook(
        office.get("/api/reconcile/report.xlsx", params={"station": evil, "month": MONTH})
    )
    assert_data_only(report)
    assert len(cell_with(report, "汇总", EVIL_STATION)) == 2  # 维修站代码 and 维修站名称

    summary = workbook(office.get("/api/summary.xlsx", params={"month": MONTH}))
    assert_data_only(summary)
    assert len(cell_with(summary, "按维修站", EVIL_STATION)) == 2
    cell_with(summary, "按车型", EVIL_MODEL)
    cell_with(summary, "按零件", EVIL_PART)

    one = workbook(office.get("/api/summary.xlsx", params={"station": evil, "month": MONTH}))
    assert_data_only(one)
    scope = [c for c in cells(one) if isinstance(c.value, str) and c.value.startswith("=")]
    assert scope and all(c.value.startswith(EVIL_STATION) for c in scope)


@pytest.mark.parametrize("write_only", [True, False])
def test_every_formula_start_is_text_and_numbers_stay_numbers(tmp_path, write_only):
    texts = [f"{start}SUM(A1:A9)" for start in FORMULA_STARTS] + ["普通文字", "a=b"]
    numbers = [42, -5, Decimal("-1.50"), 0.25]
    path = tmp_path / "cells.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(csv_row([*texts, *numbers, None]))
    with path.open(newline="", encoding="utf-8") as f:
        (read,) = list(csv.reader(f))
    for text, got in zip(texts, read, strict=False):
        assert got == ("'" + text if text.startswith(FORMULA_STARTS) else text)
    assert read[len(texts) :] == [str(n) for n in numbers] + [""]

    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("x") if write_only else wb.active
    append_row(ws, [*texts, *numbers])
    wb.save(tmp_path / "cells.xlsx")
    row = next(load_workbook(tmp_path / "cells.xlsx").worksheets[0].iter_rows())
    for text, cell in zip(texts, row, strict=False):
        assert cell.data_type == "s"
        assert cell.value == text.replace("\r", "\n")  # XML reads a CR as LF (XML 1.0 §2.11)
    for number, cell in zip(numbers, row[len(texts) :], strict=True):
        assert cell.data_type == "n" and Decimal(str(cell.value)) == number


# -- point 7: the field-value normaliser -----------------------------------------------------


def specs_by_type() -> dict[FieldType, list]:
    out: dict[FieldType, list] = {}
    for template in load_catalog().values():
        for f in template.fields:
            for spec in [f, *f.columns]:
                out.setdefault(spec.type, []).append(spec)
    return out


SPECS = specs_by_type()


def step(spec) -> Decimal:
    decimals = spec.constraints.decimals
    if spec.type in (FieldType.money, FieldType.decimal):
        return Decimal(1).scaleb(-(decimals if decimals is not None else 2))
    return Decimal(1)


@pytest.mark.parametrize("field_type", sorted(NUMBER_LIMITS))
def test_numbers_are_bounded_by_their_field_and_type(field_type):
    assert SPECS.get(field_type), field_type
    for spec in SPECS[field_type]:
        low, high = number_bounds(spec)
        assert high < Decimal(10) ** 9  # no field holds a 10-digit figure
        assert Decimal(str(normalize(spec, plain(high)))) == high
        with pytest.raises(ValueError, match=f"不能大于 {plain(high)}$"):
            normalize(spec, plain(high + step(spec)))
        with pytest.raises(ValueError, match=f"不能小于 {plain(low)}$"):
            normalize(spec, plain(low - step(spec)))
        for huge in ("12345678901234567890", 12345678901234567890, "9" * 39):
            with pytest.raises(ValueError, match="不能大于"):
                normalize(spec, huge)
        with pytest.raises(ValueError):
            normalize(spec, 1e300)


@pytest.mark.parametrize("field_type", sorted(set(MAX_CHARS) - {FieldType.table}))
def test_text_length_and_characters_are_bounded_by_type(field_type):
    for spec in SPECS[field_type]:
        limit = max_chars(spec)
        with pytest.raises(ValueError, match=f"最多 {limit} 个字符,实际 {limit + 1} 个"):
            normalize(spec, "1" * (limit + 1))
        for ch in ("\ud800", "\x00", "\x1b", "\x85", "\u202e", "\u2066", "\u200f", "\ufffe"):
            with pytest.raises(ValueError, match=f"U\\+{ord(ch):04X}"):
                normalize(spec, f"1{ch}1")
        for raw in ([[["x"]]], {"a": 1}, float("inf"), float("nan"), 10**50):
            with pytest.raises(ValueError):
                normalize(spec, raw)
        lines = "第一行\n第二行\t完"
        if field_type in MULTILINE_TYPES:
            assert normalize(spec, lines) == lines
        else:
            with pytest.raises(ValueError, match="只能填一行"):
                normalize(spec, lines)


def test_text_up_to_its_bound_is_accepted():
    spec = next(
        s
        for s in SPECS[FieldType.text]
        if not s.constraints.pattern and not s.constraints.max_length
    )
    assert normalize(spec, "字" * MAX_CHARS[FieldType.text]) == "字" * MAX_CHARS[FieldType.text]
    spec = SPECS[FieldType.multiline][0]
    assert len(normalize(spec, "行\n" * (MAX_CHARS[FieldType.multiline] // 2))) > 0


# -- point 7: through the API ----------------------------------------------------------------


def label(template, key: str) -> str:
    return template.field(key).label


def bound_text(template, key: str) -> str:
    return f"不能大于 {plain(number_bounds(template.field(key))[1])}"


DEEP = "[" * 100 + "]" * 100
PATCHES = [  # (form, key, JSON body, what the reason must say)
    (TAG, "part_name", '{"value": "a\\ud800b"}', ["请求内容 value", "U+D800"]),
    (TAG, "part_name", '{"value": "a\\u0000b"}', ["请求内容 value", "U+0000"]),
    (TAG, "part_name", '{"value": "a\\u001bb"}', ["请求内容 value", "U+001B"]),
    (TAG, "part_name", '{"value": "a\\u202eb"}', ["请求内容 value", "U+202E"]),
    (TAG, "part_name", json.dumps({"value": "x" * 100_000}), ["@label", "@chars"]),
    (TAG, "part_name", '{"value": "a\\nb"}', ["@label", "只能填一行"]),
    (TAG, "part_name", '{"value": [[["x"]]]}', ["@label", "列表"]),
    (TAG, "part_name", '{"value": ' + DEEP + "}", ["请求内容", "嵌套层数过多"]),
    (TAG, "mileage_km", '{"value": 12345678901234567890}', ["@label", "@bound"]),
    (TAG, "purchase_date", '{"value": "2026-03-15\\u0000"}', ["请求内容 value", "U+0000"]),
    (FEES, "labor_fee", '{"value": "12345678901234567890"}', ["@label", "@bound"]),
    (FEES, "labor_fee", '{"value": 12345678901234567890}', ["@label", "@bound"]),
    (FEES, "labor_fee", '{"value": 1e309}', ["请求内容 value", "数字无效"]),
    (FEES, "labor_fee", '{"value": NaN}', ["请求内容 value", "数字无效"]),
    (FEES, "labor_fee", json.dumps({"value": "9" * 30}), ["@label", "@bound"]),
    (FEES, "labor_fee", json.dumps({"value": "9" * 41}), ["@label", "内容太长"]),
    # the red team's values.py: changed silently before (2000-01-01, 2001-01-01, 0.00)
    (TAG, "purchase_date", '{"value": "0000-01-01"}', ["@label", "年份应在 1990–2099"]),
    (TAG, "purchase_date", '{"value": "0001-01-01"}', ["@label", "而不是 1 年"]),
    (FEES, "report_date", '{"value": "9999-12-31"}', ["@label", "年份应在 1990–2099"]),
    (FEES, "labor_fee", '{"value": "0.001"}', ["@label", "最多 2 位小数,即到分"]),
    (FEES, "labor_fee", '{"value": 12.345}', ["@label", "最多 2 位小数"]),
    (FEES, "filled_by", '{"value": "yes"}', ["@label", "只能更正为“已签字”(true)"]),
    (FEES, "filled_by", '{"value": 0}', ["@label", "或“未签字”(false)"]),
    (FEES, "station_seal", '{"value": "长沙顺达汽车维修站"}', ["@label", "“已盖章”"]),
]


def expected(template, key: str, needles: list[str]) -> list[str]:
    spec = template.field(key)
    out = {"@label": f"{spec.label}:", "@chars": f"最多 {max_chars(spec)} 个字符"}
    return [out.get(n, bound_text(template, key) if n == "@bound" else n) for n in needles]


@pytest.mark.parametrize(
    "template,key,body,needles", PATCHES, ids=[f"{k}-{i}" for i, (_, k, _, _) in enumerate(PATCHES)]
)
def test_a_correction_with_an_odd_value_is_refused_naming_the_field(
    world, template, key, body, needles
):
    record = world.tag_record if template is TAG else world.fees_record
    before = world.office.get(f"/api/records/{record}").json()
    res = world.office.patch(
        f"/api/records/{record}/fields/{key}",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert res.status_code == 422, res.text
    reason = res.json()["reason"]
    for needle in expected(template, key, needles):
        assert needle in reason, (needle, reason)
    assert reason.isprintable() and len(reason) < 300  # the odd value is not echoed back
    after = world.office.get(f"/api/records/{record}").json()
    assert after["record"]["fields"] == before["record"]["fields"]
    assert after["corrections"] == before["corrections"]


def test_a_multiline_field_keeps_its_lines_a_presence_field_its_tick(world):
    text = "发动机异响\n怠速抖动\t明显"
    res = world.office.patch(
        f"/api/records/{world.fees_record}/fields/fault_symptom", json={"value": text}
    )
    assert res.status_code == 200 and res.json()["new_value"] == text, res.text
    res = world.office.patch(
        f"/api/records/{world.fees_record}/fields/filled_by", json={"value": True}
    )
    assert res.status_code == 200 and res.json()["new_value"] is True, res.text
    for said, stored in (("未盖章", None), ("已盖章", True), (False, None)):
        res = world.office.patch(
            f"/api/records/{world.fees_record}/fields/station_seal", json={"value": said}
        )
        assert res.status_code == 200 and res.json()["new_value"] is stored, res.text


def test_money_and_dates_are_stored_as_written_or_refused(world):
    """A negative zero is zero, spare zeros go, a two-digit year is 20xx: nothing else is
    changed on the way in (the refusals are in PATCHES)."""
    for key, value, stored in (
        ("labor_fee", "-0", "0.00"),
        ("labor_fee", "-0.00", "0.00"),
        ("labor_fee", "120.500", "120.50"),
        ("labor_fee", 135.60000000000002, "135.60"),  # a spreadsheet's 135.6
        ("report_date", "26年3月15日", "2026-03-15"),
        ("report_date", "1990-01-01", "1990-01-01"),
    ):
        res = world.office.patch(
            f"/api/records/{world.fees_record}/fields/{key}", json={"value": value}
        )
        assert res.status_code == 200 and res.json()["new_value"] == stored, (value, res.text)


PRINTS = [  # (key, JSON value text, what the reason must say)
    ("labor_fee", '"12345678901234567890"', ["@field", "@bound"]),
    ("labor_fee", "12345678901234567890", ["@field", "@bound"]),
    ("fault_part_name", json.dumps("x" * 100_000), ["@field", "@chars"]),
    ("fault_part_name", '"a\\u0000b"', ["请求内容 fault_part_name", "U+0000"]),
    ("fault_part_name", '"a\\ud800b"', ["请求内容 fault_part_name", "U+D800"]),
    ("mileage_km", "1e309", ["请求内容 mileage_km", "数字无效"]),
]


def print_reason(template, key: str, needles: list[str]) -> list[str]:
    spec = template.field(key)
    named = {"@field": f"{spec.label}:", "@chars": f"最多 {max_chars(spec)} 个字符"}
    return [named.get(n, bound_text(template, key) if n == "@bound" else n) for n in needles]


@pytest.mark.parametrize("key,value,needles", PRINTS)
def test_printing_an_odd_value_is_refused_naming_the_field(world, key, value, needles):
    values = sample_values(FEES)
    body = json.dumps({**values, key: "@@"}, ensure_ascii=False).replace('"@@"', value)
    res = world.station.post(
        f"/api/print/{FEES.slug}",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    assert res.status_code == 422, res.text
    reason = res.json()["reason"]
    for needle in print_reason(FEES, key, needles):
        assert needle in reason, (needle, reason)
    assert reason.isprintable() and len(reason) < 300


def csv_file(values: dict) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(list(values))
    writer.writerow(
        [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values.values()]
    )
    return buf.getvalue().encode("utf-8")


def xlsx_file(values: dict) -> bytes:
    wb = Workbook()
    wb.active.append(list(values))
    wb.active.append(
        [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values.values()]
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def json_file(values: dict, key: str, raw: str) -> bytes:
    return json.dumps({**values, key: "@@"}, ensure_ascii=False).replace('"@@"', raw).encode()


BATCHES = [  # (file name, make(values) -> bytes, key, what the reason must say)
    (
        "nul.csv",
        lambda v: csv_file({**v, "fault_part_name": "a\x00b"}),
        "fault_part_name",
        "U+0000",
    ),
    (
        "esc.csv",
        lambda v: csv_file({**v, "fault_part_name": "a\x1bb"}),
        "fault_part_name",
        "U+001B",
    ),
    (
        "rlo.csv",
        lambda v: csv_file({**v, "fault_part_name": "a\u202eb"}),
        "fault_part_name",
        "U+202E",
    ),
    (
        "big.csv",
        lambda v: csv_file({**v, "fault_part_name": "x" * 100_000}),
        "fault_part_name",
        "@chars",
    ),
    (
        "fee.csv",
        lambda v: csv_file({**v, "labor_fee": "12345678901234567890"}),
        "labor_fee",
        "@bound",
    ),
    (
        "big.xlsx",
        lambda v: xlsx_file({**v, "fault_part_name": "x" * 30_000}),
        "fault_part_name",
        "@chars",
    ),
    (
        "fee.xlsx",
        lambda v: xlsx_file({**v, "labor_fee": "12345678901234567890"}),
        "labor_fee",
        "@bound",
    ),
    (
        "sur.json",
        lambda v: json_file(v, "fault_part_name", '"a\\ud800b"'),
        "fault_part_name",
        "U+D800",
    ),
    ("inf.json", lambda v: json_file(v, "labor_fee", "1e309"), "labor_fee", "数字无效"),
    ("nan.json", lambda v: json_file(v, "mileage_km", "NaN"), "mileage_km", "数字无效"),
    ("int.json", lambda v: json_file(v, "mileage_km", "9" * 5000), "mileage_km", None),
    ("deep.json", lambda v: json_file(v, "mileage_km", DEEP * 20), "mileage_km", None),
]


@pytest.mark.parametrize("name,make,key,needle", BATCHES, ids=[b[0] for b in BATCHES])
def test_a_print_batch_with_an_odd_value_is_refused_naming_the_field(
    world, name, make, key, needle
):
    data = make(sample_values(FEES))
    res = world.station.post(f"/api/print/{FEES.slug}/batch", files={"file": (name, data)})
    assert res.status_code == 422, res.text
    reason = res.json()["reason"]
    spec = FEES.field(key)
    if needle is None:  # the file cannot be read as JSON at all: named, not a 500
        assert name in reason
    else:
        assert f"{spec.label}:" in reason and f"({key})" not in reason, reason
        if needle == "@chars":
            needle = f"最多 {max_chars(spec)} 个字符"
        elif needle == "@bound":
            needle = bound_text(FEES, key)
        assert needle in reason, reason
    assert reason.isprintable() and len(reason) < 300


def formdesk(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "formdesk.api", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"FORMDESK_SECRET": "cli-test", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_formdesk_render_refuses_odd_values_in_one_line(tmp_path):
    values = sample_values(FEES)
    (tmp_path / "bad.csv").write_bytes(csv_file({**values, "fault_part_name": "a\x1bb"}))
    (tmp_path / "bad.json").write_bytes(json_file(values, "labor_fee", '"12345678901234567890"'))
    for data, key, needle in (
        ("bad.csv", "fault_part_name", "U+001B"),
        ("bad.json", "labor_fee", bound_text(FEES, "labor_fee")),
    ):
        res = formdesk("render", FEES.code, "--data", data, "-o", "out.pdf", cwd=tmp_path)
        assert res.returncode != 0
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误:"), res.stderr
        assert f"{FEES.field(key).label}:" in lines[0] and needle in lines[0]
        assert not (tmp_path / "out.pdf").exists()
