"""The monthly summary as a workbook: the month at a glance with a chart of claims per
station, then one sheet per station, vehicle model, part and fault category.

Columns are declared once as data (heading, figure, format), so every sheet formats money
and counts alike and a total row always lines up with its columns.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from io import BytesIO
from typing import Literal

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from formdesk.reconcile.monthly import Figures, MonthlySummary, SummaryRow
from formdesk.render.cells import append_row, set_cell
from formdesk.templates.values.dates import CHINA_TIME

MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"

Kind = Literal["text", "count", "money"]
Column = tuple[str, str, Kind]  # heading, attribute of SummaryRow, format

WARRANTY: list[Column] = [
    ("三包台次", "warranty_visits", "count"),
    ("索赔单数", "warranty_claims", "count"),
    ("索赔件数", "claimed_qty", "count"),
    ("三包工时费", "warranty_labor", "money"),
    ("三包材料费", "warranty_material", "money"),
    ("三包合计", "warranty_total", "money"),
]
PAID: list[Column] = [
    ("收费维修台次", "paid_repairs", "count"),
    ("收费工时费", "paid_labor", "money"),
    ("收费材料费", "paid_material", "money"),
    ("收费合计", "paid_total", "money"),
]
MAINTENANCE: list[Column] = [
    ("保养台次", "maintenance", "count"),
    ("保养合计", "maintenance_total", "money"),
]
RETURNED: list[Column] = [
    ("返厂件数", "returned_qty", "count"),
    ("其中无索赔", "returned_unclaimed_qty", "count"),
]
TOTAL: list[Column] = [("合计金额", "total", "money")]

STATION_COLUMNS: list[Column] = [
    ("维修站代码", "key", "text"),
    ("维修站名称", "label", "text"),
    ("进站台次", "vehicles", "count"),
    *WARRANTY,
    *PAID,
    *MAINTENANCE,
    *RETURNED,
    *TOTAL,
]
MODEL_COLUMNS: list[Column] = [
    ("车型", "label", "text"),
    ("进站台次", "vehicles", "count"),
    *WARRANTY,
    *PAID,
    *MAINTENANCE,
    *RETURNED,
    *TOTAL,
]
PART_COLUMNS: list[Column] = [
    ("零件编号", "key", "text"),
    ("零件名称", "label", "text"),
    ("索赔单数", "warranty_claims", "count"),
    ("索赔件数", "claimed_qty", "count"),
    ("三包工时费", "warranty_labor", "money"),
    ("三包材料费", "warranty_material", "money"),
    ("三包合计", "warranty_total", "money"),
    *RETURNED,
]
CATEGORY_COLUMNS: list[Column] = [
    ("故障类别", "label", "text"),
    ("索赔单数", "warranty_claims", "count"),
    ("索赔件数", "claimed_qty", "count"),
    ("三包合计", "warranty_total", "money"),
    ("收费维修台次", "paid_repairs", "count"),
    ("收费合计", "paid_total", "money"),
    *RETURNED,
]

# the month at a glance: (label, attribute of Figures, format)
OVERVIEW: list[Column] = [
    ("进站台次", "vehicles", "count"),
    ("三包维修台次", "warranty_visits", "count"),
    ("三包索赔单数", "warranty_claims", "count"),
    ("索赔件数", "claimed_qty", "count"),
    ("三包工时费(元)", "warranty_labor", "money"),
    ("三包材料费(元)", "warranty_material", "money"),
    ("三包合计(元)", "warranty_total", "money"),
    ("收费维修台次", "paid_repairs", "count"),
    ("收费工时费(元)", "paid_labor", "money"),
    ("收费材料费(元)", "paid_material", "money"),
    ("收费合计(元)", "paid_total", "money"),
    ("保养台次", "maintenance", "count"),
    ("其中首保", "maintenance_first", "count"),
    ("其中定保", "maintenance_periodic", "count"),
    ("保养合计(元)", "maintenance_total", "money"),
    ("返厂件数", "returned_qty", "count"),
    ("其中无索赔", "returned_unclaimed_qty", "count"),
    ("合计金额(三包+收费+保养,元)", "total", "money"),
]
FORMATS = {"count": COUNT_FORMAT, "money": MONEY_FORMAT}


def monthly_summary_xlsx(summary: MonthlySummary) -> bytes:
    """Sheets 汇总 (with a bar chart of claims per station), 按维修站, 按车型, 按零件 and
    按故障类别; money as numbers formatted 元 with two decimals."""
    wb = Workbook()
    overview = wb.active
    overview.title = "汇总"
    stations = wb.create_sheet("按维修站")
    _table(stations, STATION_COLUMNS, summary.stations, summary.totals)
    _table(wb.create_sheet("按车型"), MODEL_COLUMNS, summary.models, summary.totals)
    _table(wb.create_sheet("按零件"), PART_COLUMNS, summary.parts, summary.totals)
    _table(wb.create_sheet("按故障类别"), CATEGORY_COLUMNS, summary.categories, summary.totals)
    _overview(overview, summary)
    if summary.stations:
        overview.add_chart(_claims_chart(stations, len(summary.stations)), "D2")
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _overview(ws: Worksheet, summary: MonthlySummary) -> None:
    append_row(ws, ["项目", "数值"])
    scope = f"{summary.station_name}({summary.station})" if summary.station else "全部维修站"
    made = summary.generated_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
    head: list[tuple[str, str | int]] = [
        ("月份", summary.month),
        ("期间", f"{summary.period_start} 至 {summary.period_end}"),
        ("范围", scope),
        ("生成时间", f"{made}(北京时间)"),
    ]
    for label, value in head:
        append_row(ws, [label, str(value)])  # the scope holds the station's name
    for label, attr, kind in OVERVIEW:
        append_row(ws, [label, getattr(summary.totals, attr)])
        if kind != "text":
            ws.cell(row=ws.max_row, column=2).number_format = FORMATS[kind]
    notes = [
        ("待复核的维修委托书", summary.orders_to_check),
        ("未读出日期的维修委托书(未计入)", summary.orders_undated),
    ]
    for label, value in notes:
        append_row(ws, [label, value])
    _header(ws)
    ws.column_dimensions["A"].width = max(_width(r[0].value or "") for r in ws.iter_rows()) + 2
    ws.column_dimensions["B"].width = max(_width(str(r[1].value or "")) for r in ws.iter_rows()) + 4


def _claims_chart(stations: Worksheet, rows: int) -> BarChart:
    """三包索赔单数 per station, drawn by Excel from the 按维修站 sheet."""
    claims_col = next(
        i for i, (_, attr, _) in enumerate(STATION_COLUMNS, 1) if attr == "warranty_claims"
    )
    chart = BarChart()
    chart.type = "col"
    chart.title = "各维修站三包索赔单数"
    chart.y_axis.title = "索赔单数"
    chart.x_axis.title = "维修站"
    chart.legend = None
    data = Reference(stations, min_col=claims_col, min_row=1, max_row=rows + 1)
    names = Reference(stations, min_col=2, min_row=2, max_row=rows + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(names)
    chart.width, chart.height = 18, 9
    return chart


def _table(ws: Worksheet, columns: list[Column], rows: list[SummaryRow], totals: Figures) -> None:
    append_row(ws, [heading for heading, _, _ in columns])
    widths = [_width(heading) for heading, _, _ in columns]
    for r, row in enumerate(rows, 2):
        _row(ws, r, columns, row, widths)
    total_row = len(rows) + 2
    _row(ws, total_row, columns, totals, widths, total=True)
    _header(ws)
    for cell in ws[total_row]:
        cell.font = Font(bold=True)
    for c, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(c)].width = min(width, 40) + 2
    ws.freeze_panes = "B2" if columns[0][1] == "key" and columns[1][1] == "label" else "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def _row(
    ws: Worksheet,
    r: int,
    columns: list[Column],
    row: Figures,
    widths: list[int],
    total: bool = False,
) -> None:
    for c, (_, attr, kind) in enumerate(columns, 1):
        cell = ws.cell(row=r, column=c)
        if kind == "text":
            value = ("合计" if c == 1 else "") if total else str(getattr(row, attr))
            set_cell(cell, value)  # read from scans or claims files: text, never a formula
        else:
            value = getattr(row, attr)
            cell.value = value
            cell.number_format = FORMATS[kind]
            value = f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,}"
        widths[c - 1] = max(widths[c - 1], _width(value))


def _header(ws: Worksheet) -> None:
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    ws.freeze_panes = "A2"


def _width(text: str) -> int:
    """Excel column units: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
