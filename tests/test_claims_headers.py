"""Claims files as people's spreadsheets really are: a two-row header with merged group
titles, long numbers Excel turned into scientific notation, two-digit years that read
two ways. Real CSV and XLSX files (openpyxl, merged cells as Excel saves them) through
`read_claims` and the HTTP import; each refusal names the cell and the true cause.
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from formdesk.ingest.claims import ClaimFileError, read_claims

from .test_claims_import import HEADER, row, table

# group titles over some columns; the others have their name merged over both rows
GROUPS = {"车辆信息": ["车架号", "发动机号", "车型"], "零件": ["零件编号", "零件名称", "数量"]}


def two_row_header() -> tuple[list[str | None], list[str | None], list[tuple[int, int]]]:
    """(upper row, lower row, merged column spans of the upper row, 1-based)."""
    upper: list[str | None] = []
    lower: list[str | None] = []
    spans = []
    col = 0
    while col < len(HEADER):
        name = HEADER[col]
        group = next((g for g, names in GROUPS.items() if names[0] == name), None)
        if group:
            width = len(GROUPS[group])
            upper += [group] + [None] * (width - 1)
            lower += HEADER[col : col + width]
            spans.append((col + 1, col + width))
            col += width
        else:
            upper.append(name)
            lower.append(None)
            col += 1
    return upper, lower, spans


def data_rows(n: int) -> list[list[str]]:
    return table([row(i) for i in range(1, n + 1)])[1:]


def csv_bytes(lines: list[list]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows([["" if c is None else c for c in line] for line in lines])
    return buf.getvalue().encode("utf-8")


def xlsx_bytes(lines: list[list], merges: list[str] = ()) -> bytes:
    wb = Workbook()
    ws = wb.active
    for line in lines:
        ws.append(line)
    for ref in merges:
        ws.merge_cells(ref)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def problems_of(data: bytes, name: str) -> list:
    with pytest.raises(ClaimFileError) as info:
        read_claims(data, name, source="t")
    return info.value.problems


# -- a two-row header ---------------------------------------------------------------------------


def test_a_csv_with_group_titles_above_the_header_is_read():
    upper, lower, _ = two_row_header()
    claims = read_claims(csv_bytes([upper, lower, *data_rows(3)]), "c.csv", source="t")
    assert [c.claim_no for c in claims] == [row(i)["索赔单号"] for i in (1, 2, 3)]
    assert [c.vin for c in claims] == [row(i)["车架号"] for i in (1, 2, 3)]
    assert claims[0].vehicle_model == row(1)["车型"] and claims[0].quantity == 1
    assert [c.source_line for c in claims] == [3, 4, 5]  # as the sheet numbers its rows


def test_an_xlsx_with_merged_group_titles_is_read():
    upper, lower, spans = two_row_header()
    merges = [f"{get_column_letter(a)}1:{get_column_letter(b)}1" for a, b in spans]
    # the columns without a group: their name merged down over both header rows
    merges += [f"{get_column_letter(i + 1)}1:{get_column_letter(i + 1)}2" for i, v in enumerate(lower) if v is None]  # fmt: skip
    data = xlsx_bytes([upper, lower, *data_rows(2)], merges)
    claims = read_claims(data, "c.xlsx", source="t")
    assert [c.vin for c in claims] == [row(1)["车架号"], row(2)["车架号"]]
    assert claims[1].engine_no == row(2)["发动机号"] and claims[1].part_no == row(2)["零件编号"]


def test_a_column_named_by_group_and_sub_title_together():
    """费用 over 工时/材料 means 工时费用 and 材料费用 (synonyms of 工时费, 材料费)."""
    upper = [h if h not in ("工时费", "材料费") else None for h in HEADER]
    upper[HEADER.index("工时费")] = "费用"
    lower = [None] * len(HEADER)
    lower[HEADER.index("工时费")], lower[HEADER.index("材料费")] = "工时", "材料"
    (claim,) = read_claims(csv_bytes([upper, lower, *data_rows(1)]), "c.csv", source="t")
    assert str(claim.labor_fee) == row(1)["工时费"].strip("¥")
    assert claim.material_fee is not None


def test_a_title_row_above_a_one_row_header_still_works():
    lines = [["2026年11月三包索赔明细"], *table([row(1)])]
    (claim,) = read_claims(csv_bytes(lines), "c.csv", source="t")
    assert claim.source_line == 3


def test_without_the_second_row_the_group_titles_are_named_as_not_understood():
    upper, _, _ = two_row_header()
    found = problems_of(csv_bytes([upper, *data_rows(1)]), "c.csv")
    assert "缺少必需的列:车架号、车型、零件编号、零件名称、数量" in found[0].reason
    assert "“车辆信息”" in found[0].reason


# -- scientific notation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "value"),
    [("索赔单号", "2.02603E+15"), ("车架号", "1.23457E+16"), ("零件编号", "3.41101E+11")],
)
def test_a_code_in_scientific_notation_in_a_csv_is_refused_naming_the_cell(label, value):
    lines = table([row(1), row(2, **{label: value}), row(3, **{label: value})])
    found = problems_of(csv_bytes(lines), "c.csv")
    col = get_column_letter(HEADER.index(label) + 1)
    assert [(p.line, p.column) for p in found] == [(3, label), (4, label)]
    for p in found:
        assert f"单元格 {col}{p.line}" in p.reason
        assert f"“{value}”是科学计数法" in p.reason and "文本" in p.reason


def test_a_numeric_xlsx_cell_too_long_to_be_exact_is_refused_in_a_code_column():
    lines = table([row(1), row(2)])
    lines[2][HEADER.index("索赔单号")] = 2026031500001234  # Excel keeps 2026031500001230
    lines[1][HEADER.index("零件编号")] = 34110102  # short: exact, stored as typed
    found = problems_of(xlsx_bytes(lines), "c.xlsx")
    assert len(found) == 1
    (p,) = found
    assert (p.line, p.column) == (3, "索赔单号")
    assert "单元格 A3" in p.reason and "超过 15 位" in p.reason and "科学计数法" in p.reason


def test_a_short_numeric_code_in_an_xlsx_is_kept():
    lines = table([row(1)])
    lines[1][HEADER.index("零件编号")] = 34110102
    (claim,) = read_claims(xlsx_bytes(lines), "c.xlsx", source="t")
    assert claim.part_no == "34110102"


def test_an_excel_error_value_is_refused_naming_the_cell():
    found = problems_of(csv_bytes(table([row(1, 车型="#N/A")])), "c.csv")
    (p,) = found
    col = get_column_letter(HEADER.index("车型") + 1)
    assert p.column == "车型" and f"单元格 {col}2" in p.reason and "错误值" in p.reason


# -- two-digit years -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["03/04/25", "25-03-04", "04.03.25"])
def test_a_two_digit_year_that_reads_two_ways_is_refused_naming_the_cell(value):
    found = problems_of(csv_bytes(table([row(1, 购买日期=value)])), "c.csv")
    (p,) = found
    col = get_column_letter(HEADER.index("购买日期") + 1)
    assert p.column == "购买日期" and f"单元格 {col}2" in p.reason
    assert "年份只有两位" in p.reason and "四位年份" in p.reason


@pytest.mark.parametrize(
    ("label", "value", "iso"),
    [
        ("维修日期", "45/3/15", "2045-03-15"),  # 45 cannot be a day
        ("购买日期", "00-1-1", "2000-01-01"),  # 00 cannot be a day or a month
        ("购买日期", "24年12月20日", "2024-12-20"),  # 年 names the year
    ],
)
def test_two_digit_years_that_read_one_way_keep_working(label, value, iso):
    lines = table([row(1, **{label: value})])
    (claim,) = read_claims(csv_bytes(lines), "c.csv", source="t")
    got = claim.repair_date if label == "维修日期" else claim.purchase_date
    assert got.isoformat() == iso
