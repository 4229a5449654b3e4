"""The records export people open (issue 12, point 6): per form, Chinese column headers
in the template's order, statuses in Chinese, times in Beijing time, a table field's rows
on a sheet (or in a file) of their own, one line per table row.

- XLSX (`records_xlsx`): for each form a sheet ``SH-ZH-BD-27 保修零部件鉴别标签`` and,
  for each of its table fields, a sheet ``SH-ZH-BD-31 明细`` whose rows carry the record
  and document id they belong to; headers bold, the first row frozen, widths fitted to
  what the column holds (CJK counted double).
- CSV (`form_csv`): one file per form, UTF-8 with a BOM (Excel opens it as such); a table
  field is one column holding its rows as text (``第1行 零件名称:机油泵总成,数量:2``)
  — the XLSX keeps them apart.

Text a spreadsheet would take for a formula is written as text (render/cells.py).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from formdesk.model.stored import RecordSummary
from formdesk.render.cells import append_row, csv_row
from formdesk.templates.schema import FieldType, FormField, Template
from formdesk.templates.values.dates import CHINA_TIME

STATUS_LABELS = {
    "ready": "识读完成",
    "needs_review": "待复核",
    "verified": "已确认",
    "damaged": "文件损坏",
}
RECORD_COLUMNS = ["记录号", "文档号", "联", "维修站代码", "状态", "最低置信度", "上传时间(北京时间)",
                  "确认人", "确认时间(北京时间)", "重复扫描(首次记录号)"]  # fmt: skip
ROW_COLUMNS = ["记录号", "文档号", "行号"]
MAX_WIDTH = 60  # characters: a long description wraps in the cell rather than run on
SHEET_NAME = 31  # Excel's limit on a sheet's name


@dataclass(frozen=True)
class ExportedRecord:
    """One record as exported: its summary, its values by field key (corrections applied;
    a table's value is its list of row dicts), and why its file cannot be read (then no
    values)."""

    summary: RecordSummary
    values: dict[str, Any]
    damaged: str | None = None


@dataclass(frozen=True)
class FormExport:
    """The exported records of one form (`template`: the catalog's current version)."""

    template: Template
    records: list[ExportedRecord]
    # fields the records hold that the template no longer has (an older version's):
    # (key, label as stored), after the template's own
    extras: tuple[tuple[str, str], ...] = ()

    @property
    def scalar_fields(self) -> list[FormField]:
        """The fields that are one value each, in the template's order."""
        return [f for f in self.template.fields if f.type != FieldType.table]

    @property
    def table_fields(self) -> list[FormField]:
        """The table fields (rows of cells), in the template's order."""
        return [f for f in self.template.fields if f.type == FieldType.table]


def beijing(moment: datetime | None) -> str:
    """`moment` as the service center reads it: ``2026-03-18 14:05`` in Beijing time."""
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") if moment else ""


def shown(value: Any) -> Any:
    """A value as a cell shows it: yes/no in Chinese, a choice list joined with 、, None
    as empty; numbers and text as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(shown(v)) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}:{shown(v)}" for k, v in value.items())
    return value


NUMBER_TYPES = {FieldType.integer, FieldType.decimal, FieldType.money}


def cell_value(value: Any, kind: FieldType) -> Any:
    """A value as an XLSX cell holds it: integers, decimals and amounts as numbers (Excel
    sums them), dates as dates, a date and time as a date-time (the time written on the
    form, as written); everything else as `shown` text."""
    if isinstance(value, str) and value:
        try:
            if kind == FieldType.integer:
                return int(value)
            if kind in NUMBER_TYPES:
                return Decimal(value)
            if kind == FieldType.date:
                return date.fromisoformat(value)
            if kind == FieldType.datetime:
                return datetime.fromisoformat(value)
        except ValueError:
            pass
    return shown(value)


def record_cells(r: ExportedRecord) -> list[Any]:
    """The record's own columns (RECORD_COLUMNS)."""
    s = r.summary
    status = "damaged" if r.damaged else s.status
    return [
        s.record_id, s.document_id, s.copy_index, s.station or "", STATUS_LABELS[status],
        round(s.min_confidence, 2), beijing(s.created_at), s.verified_by or "",
        beijing(s.verified_at), s.duplicate_of or "",
    ]  # fmt: skip


def rows_text(field: FormField, rows: Any) -> str:
    """A table field's rows as one line of text (CSV): ``第1行 零件名称:…,数量:2;第2行 …``."""
    if not isinstance(rows, list):
        return str(shown(rows))
    labels = {c.key: c.label for c in field.columns}
    lines = []
    for i, row in enumerate(rows, 1):
        cells = row.items() if isinstance(row, dict) else []
        text = ",".join(f"{labels.get(k, k)}:{shown(v)}" for k, v in cells if v not in (None, ""))
        lines.append(f"第{i}行 {text}")
    return ";".join(lines)


def form_sheet(form: FormExport, *, tables_as_text: bool) -> tuple[list[str], list[list[Any]]]:
    """The form's header (record columns, then each field's Chinese label in template
    order — table fields only when `tables_as_text` — then the `extras`) and one row per
    record."""
    fields = form.template.fields if tables_as_text else form.scalar_fields
    header = RECORD_COLUMNS + [f.label for f in fields] + [label for _, label in form.extras]
    rows = []
    for r in form.records:
        cells = []
        for f in fields:
            value = r.values.get(f.key)
            if f.type == FieldType.table:
                cells.append(rows_text(f, value))
            else:  # a CSV is text whatever it holds; a workbook keeps numbers and dates
                cells.append(shown(value) if tables_as_text else cell_value(value, f.type))
        cells += [shown(r.values.get(key)) for key, _ in form.extras]
        rows.append(record_cells(r) + cells)
    return header, rows


def table_sheet(form: FormExport, field: FormField) -> tuple[list[str], list[list[Any]]]:
    """A table field's rows: 记录号, 文档号, 行号 (第n行 as printed, from 1), then the
    columns' Chinese labels; one line per table row of every record."""
    header = ROW_COLUMNS + [c.label for c in field.columns]
    rows = []
    for r in form.records:
        table = r.values.get(field.key)
        for i, row in enumerate(table if isinstance(table, list) else [], 1):
            row = row if isinstance(row, dict) else {}
            cells = [cell_value(row.get(c.key), c.type) for c in field.columns]
            rows.append([r.summary.record_id, r.summary.document_id, i, *cells])
    return header, rows


def sheet_name(text: str, taken: set[str]) -> str:
    """`text` as an Excel sheet name: no ``[]:*?/\\`` (the code's / becomes -), at most 31
    characters, unique among `taken` (a number added), which it is added to."""
    base = re.sub(r"[\[\]:*?/\\]", "-", text).strip()[:SHEET_NAME]
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f"({n})"
        name, n = base[: SHEET_NAME - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


def sheet_title(template: Template) -> str:
    """The form's title for a sheet name: the seed's placeholder company (XX公司, 某某公司)
    left out, which would otherwise take a third of the 31 characters."""
    return re.sub(r"^(XX|某某)(公司)?", "", template.title)


def text_width(value: Any) -> int:
    """Characters a value takes in a cell, East Asian wide characters counted twice."""
    text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_sheet(wb: Any, title: str, header: list[str], rows: list[list[Any]]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    append_row(ws, header)
    for row in rows:
        append_row(ws, row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "A2"
    for i, name in enumerate(header, 1):
        widest = max([text_width(name), *(text_width(row[i - 1]) for row in rows[:500])])
        ws.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, max(6, widest + 2))


def records_xlsx(forms: list[FormExport]) -> bytes:
    """The workbook: per form its sheet and its table fields' sheets (module docstring);
    a sheet 说明 when there is no record at all."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for form in forms:
        code = form.template.code
        header, rows = form_sheet(form, tables_as_text=False)
        title = sheet_title(form.template)
        _write_sheet(wb, sheet_name(f"{code} {title}", taken), header, rows)
        for field in form.table_fields:
            t_header, t_rows = table_sheet(form, field)
            _write_sheet(wb, sheet_name(f"{code} {field.label}", taken), t_header, t_rows)
    if not forms:
        _write_sheet(wb, "说明", ["说明"], [["没有符合筛选条件的记录"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def form_csv(form: FormExport) -> bytes:
    """One form's records as CSV (UTF-8 with a BOM), table fields as text."""
    header, rows = form_sheet(form, tables_as_text=True)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(csv_row(header))
    writer.writerows(csv_row(row) for row in rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def file_stem(template: Template) -> str:
    """A form's export file name without suffix: its code with / as - (SH-ZH-BD-27)."""
    return template.code.replace("/", "-")
