"""Printing refuses every invalid value, naming the field by its Chinese label and the rule
it breaks, on every path that takes values to print: the JSON API (what the 打印 page
sends), CSV/XLSX/JSON batches through the API and `formdesk render`, reprints of read
records and BD-24's 配件销售额. Nothing is printed with the value left blank.

Real app (FastAPI TestClient, TinyDB in a temp folder, the render and spreadsheet
processes), real files, real PDFs opened with pdfplumber.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pytest
from openpyxl import Workbook

from formdesk.model.record import FieldReading, FormRecord, PageSource
from formdesk.templates import get_template

from .conftest import finished_print_job, sample_values
from .test_api import login, service  # noqa: F401 (the module's service fixture)

TAG = get_template("SH-ZH/BD-27")
LABELS = {f.key: f.label for f in TAG.fields}
GOOD = sample_values(TAG)


# (field, value sent, what the reason must say besides the field's label)
INVALID = [
    ("purchase_date", "2026年2月30日", "2026年2月没有30日"),
    ("purchase_date", "2026-13-01", "月份应为1–12"),
    ("purchase_date", "1899-01-01", "年份应在 1990–2099 年之间"),
    ("purchase_date", "25-03-04", "年份只有两位"),
    ("purchase_date", "上周三", "无法识别的日期"),
    ("repair_date", 20260230, "2026年2月没有30日"),
    ("mileage_km", -5, "不能小于 0"),
    ("mileage_km", "4826O", "应为整数"),
    ("mileage_km", 48260.5, "应为整数"),
    ("mileage_km", True, "应为数字"),
    ("mileage_km", [48260], "不是列表"),
    ("vin", "LGAX2A1396K123456", "校验位"),
    ("vin", "LGAX2A1376K12345", "应为17位"),
    ("engine_no", "YC4E#14020", "发动机号格式不对"),
    ("part_name", "水泵" * 200, "内容太长"),
    ("part_name", True, "应为文字"),
    ("part_no", "2.02603E+15", "科学计数法"),
    ("part_no", 2026031500001234, "超过 15 位"),
    ("part_no", "#N/A", "错误值"),
    ("part_origin", "外国零部件", "之一"),
    ("colour", "红", "没有这个栏目"),
]


def reason_names(reason: str, key: str, rule: str) -> None:
    label = LABELS.get(key, key)
    assert f"{label}:" in reason and f"({key})" not in reason, reason  # Chinese, no key
    assert rule in reason, reason


@pytest.mark.parametrize(("key", "value", "rule"), INVALID)
def test_the_json_api_refuses_an_invalid_value_naming_field_and_rule(service, key, value, rule):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    res = office.post(f"/api/print/{TAG.slug}", json={**GOOD, key: value})
    assert res.status_code == 422, res.text[:200]
    assert res.headers["content-type"].startswith("application/json")
    reason_names(res.json()["reason"], key, rule)


def test_a_valid_tag_still_prints_with_every_value(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    res = office.post(f"/api/print/{TAG.slug}", json=GOOD)
    assert res.status_code == 200, res.text
    with pdfplumber.open(io.BytesIO(res.content)) as pdf:
        text = pdf.pages[0].extract_text()
    assert GOOD["vin"] in text and str(GOOD["mileage_km"]) in text


def write_csv(rows: list[dict], header: list[str] | None = None) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header or list(rows[0]))
    for r in rows:
        w.writerow(list(r.values()))
    return buf.getvalue().encode("utf-8")


def tag_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        r = {k: v for k, v in GOOD.items()}
        r["part_name"] = f"零件{i + 1}"
        rows.append(r)
    return rows


def xlsx_bytes(rows: list[list]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def batch(client, name: str, data: bytes):
    return client.post(f"/api/print/{TAG.slug}/batch", files={"file": (name, data)})


def test_a_batch_refuses_the_row_and_field_of_an_impossible_date(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    rows = tag_rows(3)
    rows[1]["purchase_date"] = "2026年2月30日"
    res = batch(office, "tags.csv", write_csv(rows))
    assert res.status_code == 422, res.text
    reason = res.json()["reason"]
    assert reason.startswith("tags.csv 第3行 ")  # header is line 1, the bad row line 3
    reason_names(reason, "purchase_date", "2026年2月没有30日")


def test_an_xlsx_batch_refuses_a_code_excel_turned_into_a_number(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    keys = list(GOOD)
    row = [GOOD[k] for k in keys]
    row[keys.index("part_no")] = 2026031500001234  # typed into a General cell
    res = batch(office, "tags.xlsx", xlsx_bytes([keys, row]))
    assert res.status_code == 422, res.text
    reason = res.json()["reason"]
    col = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[keys.index("part_no")]
    assert f"单元格 {col}2" in reason and "科学计数法" in reason and "文本" in reason, reason


def test_a_csv_batch_refuses_scientific_notation_in_a_code(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    rows = tag_rows(2)
    rows[0]["part_no"] = "2.02603E+15"
    res = batch(office, "tags.csv", write_csv(rows))
    assert res.status_code == 422
    reason = res.json()["reason"]
    assert reason.startswith("tags.csv 第2行 ")
    reason_names(reason, "part_no", "科学计数法")


def test_a_value_in_a_column_without_a_header_is_refused_not_dropped(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    text = "来件单位,零部件名称,\n长沙顺达,机油泵总成,LGAX2A1376K123456\n"
    res = batch(office, "tags.csv", text.encode())
    assert res.status_code == 422
    reason = res.json()["reason"]
    assert "第2行第3列" in reason and "C2" in reason and "没有表头" in reason, reason


def test_two_columns_for_one_field_are_refused(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    text = "vin,零部件名称,车架号码\nLGAX2A1376K123456,机油泵总成,LGAX2A1396K123456\n"
    res = batch(office, "tags.csv", text.encode())
    assert res.status_code == 422
    reason = res.json()["reason"]
    assert "第1列与第3列都是 车架号码(vin)" in reason, reason


def test_a_json_batch_refuses_the_record_and_field(service):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    items = [GOOD, {**GOOD, "mileage_km": 3_000_000_000}]
    res = batch(office, "tags.json", json.dumps(items).encode())
    assert res.status_code == 422
    reason = res.json()["reason"]
    assert reason.startswith("第2条记录 ")
    reason_names(reason, "mileage_km", "不能大于")


def test_a_good_batch_prints_every_row(service):  # noqa: F811
    """The refusals above are not the batch refusing everything."""
    app, _ = service
    office = login(app, "office")
    res = batch(office, "tags.csv", write_csv(tag_rows(2)))
    assert res.status_code == 202, res.text
    job = res.json()
    job = finished_print_job(office, job)
    assert job["state"] == "done", job
    pdf = office.get(job["file_url"]).content
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "".join(p.extract_text() for p in doc.pages)
    assert "零件1" in text and "零件2" in text


def _reading(key: str, value, status: str = "ok", reason: str | None = None) -> FieldReading:
    spec = TAG.field(key)
    return FieldReading(
        key=key,
        label=spec.label,
        type=spec.type.value,
        value=value,
        raw=str(value or "LGAX2A13?6K1Z3456"),
        confidence=0.9,
        status=status,
        reason=reason,
    )


def test_a_reprint_refuses_a_field_read_as_invalid_instead_of_printing_it_blank(service):  # noqa: F811
    app, _ = service
    store = app.state.store
    fields = [_reading(k, v) for k, v in GOOD.items() if k != "vin"]
    fields.append(_reading("vin", None, "invalid", "车架号校验位(第9位)应为 7,实际为 ?"))
    record = FormRecord(
        template=TAG.code,
        template_version=TAG.version,
        document_id="DREPRINT0001",
        identified_by="qr",
        authentic=True,
        residual_mm=0.2,
        pages=[PageSource(file="tag.jpg", file_page=0)],
        fields=fields,
    ).model_dump(mode="json")
    scan, _ = store.put_scan(b"tag scan for reprint", "tag.jpg", "image/jpeg", "office", "HN01")
    (summary,) = store.save_records(scan.sha256, [record], "HN01")
    office = login(app, "office")
    res = office.post(f"/api/records/{summary.record_id}/reprint.pdf")
    assert res.status_code == 422, res.text[:200]
    reason_names(res.json()["reason"], "vin", "识读结果无效")
    fixed = office.patch(
        f"/api/records/{summary.record_id}/fields/vin", json={"value": GOOD["vin"]}
    )
    assert fixed.status_code == 200, fixed.text
    again = office.post(f"/api/records/{summary.record_id}/reprint.pdf")
    assert again.status_code == 200, again.text[:200]
    with pdfplumber.open(io.BytesIO(again.content)) as pdf:
        assert GOOD["vin"] in pdf.pages[0].extract_text()


@pytest.mark.parametrize(
    ("value", "status", "said"),
    [("abc", 422, "配件销售额"), ("-1", 422, "不能小于 0"), ("1e3", 422, "配件销售额")],
)
def test_bd24_refuses_a_bad_parts_sales_amount_naming_it(service, value, status, said):  # noqa: F811
    app, _ = service
    office = login(app, "office")
    res = office.post(
        "/api/summary/bd24.pdf",
        params={"station": "HN01", "month": "2026-03", "parts_sales": value},
    )
    assert res.status_code == status, res.text[:300]
    assert said in res.json()["reason"]


# -- the command line ------------------------------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "formdesk.api", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"FORMDESK_SECRET": "cli-test", "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def test_formdesk_render_refuses_in_one_line_and_writes_no_pdf(tmp_path):
    """An impossible date, an ambiguous two-digit year and a value under no header: each
    run exits non-zero with one line naming the file, row and field."""
    rows = tag_rows(3)
    rows[2]["purchase_date"] = "2026年2月30日"
    (tmp_path / "a.csv").write_bytes(write_csv(rows))
    rows = tag_rows(2)
    rows[1]["repair_date"] = "04.03.25"
    (tmp_path / "b.csv").write_bytes(write_csv(rows))
    (tmp_path / "c.csv").write_text("来件单位,\n长沙顺达,多出来的值\n", encoding="utf-8")
    for name, expect in (
        ("a.csv", "a.csv 第4行 购买日期:日期无效:2026年2月30日(2026年2月没有30日)"),
        ("b.csv", "b.csv 第3行 修理日期:日期有歧义"),
        ("c.csv", "c.csv 第2行第2列(单元格 B2):这一列没有表头"),
    ):
        res = run("render", "BD-27", "--data", name, "-o", "out.pdf", cwd=tmp_path)
        assert res.returncode != 0
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and expect in lines[0], res.stderr
        assert not list(tmp_path.glob("*.pdf"))


def test_a_form_is_not_printed_against_its_own_date_order():
    """The seed's 修理日期不能早于购买日期 (BD-27's check): refused when printing, named by
    the field, as the reading of a scan would flag it; the same day is fine."""
    from formdesk.templates.values.normalize import FieldValueError, normalize_record

    with pytest.raises(FieldValueError, match="修理日期不能早于购买日期") as info:
        normalize_record(TAG, {"purchase_date": "2026-02-01", "repair_date": "2026-01-31"})
    assert info.value.details()["field"] == "repair_date"
    same = normalize_record(TAG, {"purchase_date": "2026-02-01", "repair_date": "2026年2月1日"})
    assert same["repair_date"] == "2026-02-01"
