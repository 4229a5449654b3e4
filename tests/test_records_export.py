"""The records export as the back office opens it (issue 12, point 6): built from typed
records by reports/records_export.py and opened again with openpyxl and csv."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from formdesk.model.stored import RecordSummary
from formdesk.reports.records_export import (
    ExportedRecord,
    FormExport,
    form_csv,
    records_xlsx,
    sheet_name,
)
from formdesk.templates import get_template

MANIFEST = get_template("SH-ZH/BD-31")
TAG = get_template("SH-ZH/BD-27")
UPLOADED = datetime(2026, 3, 18, 6, 5, tzinfo=UTC)  # 14:05 in Beijing


def summary(record_id: str, template: str, status: str = "ready") -> RecordSummary:
    return RecordSummary(
        record_id=record_id, template=template, template_version=1, document_id=f"D-{record_id}",
        station="HN01", status=status, min_confidence=0.873, fields_to_check=0, scan_id="s",
        created_at=UPLOADED, updated_at=UPLOADED,
    )  # fmt: skip


def manifest(record_id: str, rows: int) -> ExportedRecord:
    parts = [
        {"serial": i, "claim_no": f"SP2603-{i:03d}", "part_name": "机油泵总成", "quantity": 2}
        for i in range(1, rows + 1)
    ]
    values = {"unit_name": "长沙顺达汽车维修站", "box_count": "1",
              "manifest_date": "2026-03-18", "returned_parts": parts}  # fmt: skip
    return ExportedRecord(summary(record_id, MANIFEST.code), values)


def test_a_sheet_per_form_and_per_table_field_in_chinese_and_beijing_time():
    forms = [
        FormExport(
            TAG,
            [
                ExportedRecord(
                    summary("t1", TAG.code, "needs_review"),
                    {"part_name": "=HYPERLINK(1)", "urgent": True},
                )
            ],
        ),  # fmt: skip
        FormExport(MANIFEST, [manifest("m1", 2), manifest("m2", 1)]),
    ]
    wb = load_workbook(io.BytesIO(records_xlsx(forms)))
    assert wb.sheetnames == [
        f"SH-ZH-BD-27 {TAG.title}"[:31],
        "SH-ZH-BD-31 售后服务中心三包索赔件返厂清单",  # the seed's XX公司 left out
        "SH-ZH-BD-31 返厂索赔件明细",
    ]
    tag = wb[wb.sheetnames[0]]
    header = [c.value for c in tag[1]]
    scalar = [f.label for f in TAG.fields if f.type != "table"]
    assert header[:5] == ["记录号", "文档号", "联", "维修站代码", "状态"] and header[10:] == scalar
    row = [c.value for c in tag[2]]
    assert row[4] == "待复核" and row[6] == "2026-03-18 14:05" and row[5] == 0.87
    assert (
        row[header.index("零部件名称")] == "=HYPERLINK(1)"
        and tag.cell(2, header.index("零部件名称") + 1).data_type == "s"
    )
    assert tag.freeze_panes == "A2" and tag["A1"].font.bold
    assert all(tag.column_dimensions[c].width >= 6 for c in "ABCDE")
    head = wb["SH-ZH-BD-31 售后服务中心三包索赔件返厂清单"]
    cols = [c.value for c in head[1]]
    first = [c.value for c in head[2]]
    # numbers and dates as Excel keeps them (sums, sorting), not as text
    assert first[cols.index("总箱数")] == 1 and first[cols.index("时间")] == datetime(2026, 3, 18)
    lines = wb["SH-ZH-BD-31 返厂索赔件明细"]
    assert [c.value for c in lines[1]][:5] == ["记录号", "文档号", "行号", "序号", "索赔单号"]
    got = [r[:5] for r in lines.iter_rows(min_row=2, values_only=True)]
    assert got == [("m1", "D-m1", 1, 1, "SP2603-001"), ("m1", "D-m1", 2, 2, "SP2603-002"),
                   ("m2", "D-m2", 1, 1, "SP2603-001")]  # fmt: skip


def test_a_csv_per_form_holds_a_table_as_text_and_no_formula():
    rows = list(
        csv.reader(
            io.StringIO(form_csv(FormExport(MANIFEST, [manifest("m1", 2)])).decode("utf-8-sig"))
        )
    )
    header, (row,) = rows[0], rows[1:]
    assert header[-1] == "返厂索赔件明细" and header[10] == "单位名称"
    assert row[header.index("总箱数")] == "1" and row[header.index("时间")] == "2026-03-18"
    assert row[-1] == (
        "第1行 序号:1,索赔单号:SP2603-001,零件名称:机油泵总成,数量:2;"
        "第2行 序号:2,索赔单号:SP2603-002,零件名称:机油泵总成,数量:2"
    )
    tag = FormExport(TAG, [ExportedRecord(summary("t1", TAG.code), {"part_name": "@SUM(A1)"})])
    [_, cells] = list(csv.reader(io.StringIO(form_csv(tag).decode("utf-8-sig"))))
    assert "'@SUM(A1)" in cells


def test_a_damaged_record_is_listed_with_its_status_and_no_values():
    broken = ExportedRecord(summary("t9", TAG.code), {}, damaged="记录文件已损坏")
    [_, row] = list(
        csv.reader(io.StringIO(form_csv(FormExport(TAG, [broken])).decode("utf-8-sig")))
    )
    assert row[4] == "文件损坏" and all(c == "" for c in row[10:])


def test_sheet_names_are_excel_safe_and_unique():
    taken: set[str] = set()
    long = "SH-ZH/BD-31 " + "很长的表单名称" * 10
    first, second = sheet_name(long, taken), sheet_name(long, taken)
    assert len(first) == len(second) == 31 and first != second and "/" not in first
    assert second.endswith("(2)") and sheet_name("a[b]:c*?", taken) == "a-b--c--"
