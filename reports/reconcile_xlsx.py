"""A station's month of reconciliation as a workbook the back office can filter and sort.

The difference columns and the China-time stamp are defined here once; the PDF report
prints the same columns, so a printed page and a spreadsheet row read alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from formdesk.model.reconciliation import (
    KIND_LABELS,
    Evidence,
    ManifestCount,
    Outcome,
    Reconciliation,
)
from formdesk.render.cells import append_row, set_cell
from formdesk.templates.values.dates import CHINA_TIME

# (heading, widest column in characters: wider text wraps)
DIFFERENCE_COLUMNS: list[tuple[str, int]] = [
    ("序号", 6),
    ("差异类型", 12),
    ("索赔单号", 18),
    ("车架号", 20),
    ("零件编号", 16),
    ("零件名称", 18),
    ("索赔值", 16),
    ("返回件所记", 22),
    ("说明", 60),
    ("待核实", 8),
    ("证据", 50),
]
MATCHED_COLUMNS: list[tuple[str, int]] = [
    ("序号", 6),
    ("索赔单号", 18),
    ("车架号", 20),
    ("零件编号", 16),
    ("零件名称", 18),
    ("说明", 60),
    ("证据", 50),
]
WRAPPED = {"说明", "证据", "返回件所记"}


def china_time(moment: datetime) -> str:
    """The service center works in Beijing time, whatever the server's zone."""
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") + "(北京时间)"


def period_text(rec: Reconciliation) -> str:
    return f"{rec.period_start.isoformat()} 至 {rec.period_end.isoformat()}"


def evidence_text(o: Outcome) -> str:
    return ";".join(e.label for e in o.evidence)


def difference_cells(index: int, o: Outcome) -> list[str | int]:
    """One difference as the report columns show it (DIFFERENCE_COLUMNS order)."""
    return [
        index,
        o.label,
        o.claim_no or "",
        o.vin or "",
        o.part_no or "",
        o.part_name or "",
        o.claim_value or "",
        "、".join(o.returned_values),
        o.message,
        "是" if o.doubtful else "",
        evidence_text(o),
    ]


def manifest_label(m: ManifestCount) -> str:
    return f"返厂清单 {m.manifest_no or m.document_id}"


def manifest_text(m: ManifestCount) -> str:
    """合计 as written beside the read lines: 合计 7 件;明细 6 行 7 件(本月计入 6 行)."""
    total = "合计未识别" if m.written_total is None else f"合计 {m.written_total} 件"
    text = f"{total};明细 {m.lines} 行 {m.listed_quantity} 件"
    if m.counted_lines < m.lines:
        text += f"(本月计入 {m.counted_lines} 行)"
    return text + ("" if m.agrees else ";合计与明细不符")


def summary_rows(rec: Reconciliation) -> list[tuple[str, str | int]]:
    """The month at a glance: who, when, how much came in, and what was found."""
    counts = rec.counts()
    differences = rec.differences
    return [
        ("维修站代码", rec.station),
        ("维修站名称", rec.station_name),
        ("月份", rec.month),
        ("核对期间", period_text(rec)),
        ("生成时间", china_time(rec.generated_at)),
        ("索赔单数", rec.claims),
        ("索赔数量", rec.claimed_quantity),
        ("返厂件数", rec.returned_parts),
        ("返厂清单行数", rec.manifest_lines),
        ("返厂件数量", rec.returned_quantity),
        ("标签数", rec.tags),
        *((manifest_label(m), manifest_text(m)) for m in rec.manifests),
        *((label, counts[kind]) for kind, label in KIND_LABELS.items()),
        ("差异合计", len(differences)),
        ("其中待核实", sum(o.doubtful for o in differences)),
        ("其中日期未识别", sum(o.undated for o in differences)),
    ]


def reconciliation_xlsx(
    rec: Reconciliation, evidence_url: Callable[[Evidence], str] | None = None
) -> bytes:
    """Sheets 汇总, 差异明细 and 一致; with `evidence_url`, each 证据 cell links to the crop
    of its first piece of evidence."""
    wb = Workbook()
    summary = wb.active
    summary.title = "汇总"
    _table(summary, [("项目", 14), ("内容", 30)], summary_rows(rec), autofilter=False)

    details = wb.create_sheet("差异明细")
    diffs = rec.differences
    _table(details, DIFFERENCE_COLUMNS, (difference_cells(i, o) for i, o in enumerate(diffs, 1)))
    if evidence_url is not None:
        _link(details, len(DIFFERENCE_COLUMNS), diffs, evidence_url)

    matched_sheet = wb.create_sheet("一致")
    matched = [o for o in rec.outcomes if o.kind == "matched"]
    rows = (
        [i, o.claim_no or "", o.vin or "", o.part_no or "", o.part_name or "", o.message]
        + [evidence_text(o)]
        for i, o in enumerate(matched, 1)
    )
    _table(matched_sheet, MATCHED_COLUMNS, rows)
    if evidence_url is not None:
        _link(matched_sheet, len(MATCHED_COLUMNS), matched, evidence_url)

    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _table(
    ws: Worksheet,
    columns: list[tuple[str, int]],
    rows: Iterable[Iterable[str | int]],
    autofilter: bool = True,
) -> None:
    append_row(ws, [heading for heading, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [_display_width(heading) for heading, _ in columns]
    for r, row in enumerate(rows, 2):
        for c, value in enumerate(row, 1):
            # read from scans or claims files: text stays text, never a formula
            cell = set_cell(ws.cell(row=r, column=c), value)
            if columns[c - 1][0] in WRAPPED:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[c - 1] = max(widths[c - 1], _display_width(str(value)))
    for c, ((_, cap), width) in enumerate(zip(columns, widths, strict=True), 1):
        ws.column_dimensions[get_column_letter(c)].width = min(width, cap) + 2
    ws.freeze_panes = "A2"
    if autofilter and ws.max_row > 1:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{ws.max_row}"


def _link(
    ws: Worksheet, column: int, outcomes: list[Outcome], url: Callable[[Evidence], str]
) -> None:
    for r, o in enumerate(outcomes, 2):
        if o.evidence:
            cell = ws.cell(row=r, column=column)
            cell.hyperlink = url(o.evidence[0])
            cell.font = Font(color="0563C1", underline="single")


def _display_width(text: str) -> int:
    """Excel column units: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
