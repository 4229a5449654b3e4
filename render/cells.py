"""Cells of every CSV and XLSX formdesk writes: data, never code.

A spreadsheet program reads a cell whose text starts with `=`, `+`, `-`, `@`, tab or
carriage return as a formula, and a formula can fetch URLs, leak neighbouring cells or
run commands (OWASP "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection).
Values read from scans, typed in corrections or imported from claims files may start
so; here they are written as text:

- XLSX: a string cell (data type "s"), its value unchanged, so the workbook shows exactly
  what was read and no program evaluates it;
- CSV: the OWASP prefix, a leading apostrophe (`'=1+1`), since CSV has no cell types.

Numbers, dates and booleans stay what they are. Characters XML cannot hold (C0 controls,
lone surrogates, U+FFFE/U+FFFF) are dropped from XLSX text rather than failing the file.
Every writer of tables (api/routes/exports.py, reports/reconcile_xlsx.py,
reports/summary_xlsx.py) goes through `csv_row`, `set_cell` or `append_row`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_PREFIX = "'"
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def starts_like_formula(text: str) -> bool:
    """True when a spreadsheet would read `text` as a formula (OWASP's list)."""
    return text.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """One CSV cell: text that starts like a formula gets the OWASP prefix `'`; None is
    empty; numbers and everything else are left to the csv module."""
    if value is None:
        return ""
    if isinstance(value, str) and starts_like_formula(value):
        return CSV_PREFIX + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for `csv.writer.writerow`, every cell through `csv_cell`."""
    return [csv_cell(v) for v in values]


def xlsx_text(text: str) -> str:
    """`text` without the characters an XLSX (XML) cannot hold."""
    return _NOT_XML.sub("", ILLEGAL_CHARACTERS_RE.sub("", text))


def set_cell(cell: Cell | WriteOnlyCell, value: Any) -> Cell | WriteOnlyCell:
    """Puts `value` in `cell`: a str always as a string cell (data type "s"), however it
    starts; numbers, dates, booleans and None as openpyxl types them. Returns the cell."""
    if isinstance(value, str):
        cell.value = xlsx_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    return cell


def append_row(ws: Worksheet | WriteOnlyWorksheet, values: Iterable[Any]) -> None:
    """`ws.append(values)` with every str written as text (see `set_cell`), for ordinary
    and write-only worksheets alike."""
    make = WriteOnlyCell if isinstance(ws, WriteOnlyWorksheet) else Cell
    ws.append([set_cell(make(ws), v) for v in values])
