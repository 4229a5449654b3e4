"""Bounded row readers for the tables users hand in: CSV text and XLSX workbooks, shared by
the claims import (`ingest.claims`) and the print data (`render.record_sources`).

Each reader yields (line, cells) and stops with one `TableError` (a Chinese reason, without
the file name, which the caller adds) as soon as a budget is passed, before memory or time
runs out:
- CSV: physical line length (checked before the csv module splits it), field length
  (`csv.field_size_limit`, 131,072 characters by default), rows, columns, cells;
- XLSX: the zip's member count (from its end record, before the directory is read) and the
  declared uncompressed size of each XML part and of all together, before openpyxl opens
  it; then rows, columns and cells while the first sheet is streamed.  Python's zipfile
  never returns more than a member's declared size and fails a member whose data differs
  from it (CRC check), so the declared sizes hold.

Measured (openpyxl 3.1, read-only): ~9 µs per cell; 16 MB of tiny shared strings take 15 s,
one 64 MB shared string 170 MB; a 0.3 MB XLSX can declare a shared-strings part of hundreds
of MB.  A real month of a network's claims is ~20,000 rows × 14 columns (280,000 cells,
~3 MB of shared strings); the print data of a 1,500-tag batch ~1,500 rows × 20 columns.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MB = 1024 * 1024

Rows = Iterator[tuple[int, list[Any]]]  # (line, cells): the CSV record or sheet row, 1-based


@dataclass(frozen=True)
class TableLimits:
    """Budgets of one table file (defaults: ~4× a month of a network's claims)."""

    max_rows: int = 200_000
    max_columns: int = 1_000
    max_cells: int = 1_000_000  # CSV fields, or XLSX cells present in the sheet (~9 s)
    max_line_chars: int = 1_000_000  # one physical CSV line
    max_zip_members: int = 1_000  # an Excel workbook has ~10–30
    max_shared_strings_bytes: int = 16 * MB  # parsed into one Python list (~15 µs/string)
    max_sheet_bytes: int = 256 * MB  # streamed; the cell budget bounds the work
    max_part_bytes: int = 16 * MB  # any other XML part (styles, workbook, rels ...)
    max_xml_bytes: int = 512 * MB  # all XML parts together


DEFAULT_LIMITS = TableLimits()


class TableError(ValueError):
    """A table refused as a whole; `str()` is one Chinese line (no file name), `line` the
    row or line it concerns, if one."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class UnsavedFormula:
    """An XLSX cell holding a formula whose result was never saved (files written by a
    program and not recalculated in Excel/WPS): its value is unknown, never 0 or empty."""

    ref: str  # "M2"
    formula: str  # "=O2*P2"


FORMULA_HINT = "请在 Excel 或 WPS 中打开、保存后再导入,或把这些单元格复制后“选择性粘贴为数值”"


def unsaved_formulas_reason(cells: list[UnsavedFormula], column: str | None = None) -> str:
    """The refusal for formula cells without saved results: names the cells (the first 10)
    and says why and what to do."""
    refs = "、".join(c.ref for c in cells[:10])
    if len(cells) > 10:
        refs += f" 等 {len(cells)} 个单元格"
    where = f"{column}列的单元格 {refs}" if column else f"单元格 {refs}"
    return f"{where} 是公式,文件中没有保存其计算结果(由程序生成、未经重新计算);{FORMULA_HINT}"


# -- CSV -------------------------------------------------------------------------------------

DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "逗号", ";": "分号", "\t": "制表符"}


def detect_delimiter(text: str) -> str:
    """`,`, `;` or tab: the one most frequent in the first five lines (a title line may
    precede the header); a comma when none appears."""
    head = "\n".join(text.split("\n", 5)[:5])
    counts = {d: head.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the earlier (the comma)
    return best if counts[best] else ","


def delimiter_name(delimiter: str) -> str:
    """The separator as a clerk knows it: 逗号, 分号, 制表符."""
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))


def csv_rows(text: str, limits: TableLimits = DEFAULT_LIMITS, delimiter: str | None = None) -> Rows:
    """Records of decoded CSV text, numbered from 1; the separator is detected when not
    given. TableError on a budget or a CSV syntax error."""
    delimiter = delimiter or detect_delimiter(text)
    reader = csv.reader(_bounded_lines(text, limits.max_line_chars), delimiter=delimiter)
    budget = _Budget(limits)
    line = 0
    try:
        for line, row in enumerate(reader, start=1):  # noqa: B007
            budget.row(line, len(row), len(row))
            yield line, row
    except csv.Error as exc:
        record = line + 1  # the record being read (a quoted field may span many lines)
        if "field larger than field limit" in str(exc):
            raise TableError(
                f"第{record}行:有单元格超过 {csv.field_size_limit()} 个字符", record
            ) from None
        raise TableError(f"第{record}行:CSV 格式错误({exc})", record) from None


def _bounded_lines(text: str, max_chars: int) -> Iterator[str]:
    """Physical lines, each checked before the csv module splits it into fields."""
    start, n = 0, 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        n += 1
        if end - start > max_chars:
            raise TableError(
                f"第{n}行过长({end - start} 个字符,上限 {max_chars} 个);请检查文件是否为表格",
                n,
            )
        yield text[start:end]
        start = end


# -- XLSX -------------------------------------------------------------------------------------


def xlsx_rows(data: bytes, limits: TableLimits = DEFAULT_LIMITS) -> Rows:
    """Rows of the first sheet (trailing empty cells dropped; None for an empty cell,
    `UnsavedFormula` for a formula without a saved result), numbered as the sheet numbers
    them. TableError when the workbook cannot be opened or a budget is passed."""
    check_xlsx_package(data, limits)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken or foreign zip
        raise TableError(f"无法作为 Excel 工作簿打开({type(exc).__name__})") from None
    formulas_wb = None
    try:
        if not wb.worksheets:
            return
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # WPS saves <dimension ref="A1"/> whatever the sheet holds
        formula_rows: Iterator[Any] | None = None
        if _has_formulas(data, ws._worksheet_path):
            formulas_wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            fws = formulas_wb.worksheets[0]
            fws.reset_dimensions()
            formula_rows = fws.iter_rows()
        yield from _sheet_rows(ws.iter_rows(), formula_rows, _Budget(limits))
    except (TableError, GeneratorExit):
        raise
    except Exception as exc:  # a part that breaks only while streamed, a CRC mismatch ...
        raise TableError(f"Excel 工作簿已损坏,无法读取({type(exc).__name__})") from None
    finally:
        wb.close()
        if formulas_wb is not None:
            formulas_wb.close()


def _sheet_rows(rows: Iterator[Any], formula_rows: Iterator[Any] | None, budget: _Budget) -> Rows:
    from openpyxl.cell.read_only import EmptyCell
    from openpyxl.utils import get_column_letter

    for line, row in enumerate(rows, start=1):
        present = sum(1 for c in row if not isinstance(c, EmptyCell))
        cells: list[Any] = [c.value for c in row]
        while cells and cells[-1] is None:  # formatting can stretch rows to column XFD
            cells.pop()
        budget.row(line, len(cells), present, filler=len(row))
        if formula_rows is not None:
            frow = next(formula_rows, ())
            for i, fcell in enumerate(frow):
                if getattr(fcell, "data_type", None) == "f" and (
                    i >= len(cells) or cells[i] is None
                ):
                    cells.extend([None] * (i + 1 - len(cells)))
                    cells[i] = UnsavedFormula(f"{get_column_letter(i + 1)}{line}", str(fcell.value))
        yield line, cells


def _has_formulas(data: bytes, part: str) -> bool:
    """Whether the sheet part holds any <f> element: most exports have none, and then the
    second, formula-reading pass is skipped."""
    with zipfile.ZipFile(io.BytesIO(data)) as z, z.open(part.lstrip("/")) as f:
        tail = b""
        while chunk := f.read(1 << 20):
            if b"<f>" in tail + chunk or b"<f " in tail + chunk:
                return True
            tail = chunk[-3:]
    return False


def check_xlsx_package(data: bytes, limits: TableLimits = DEFAULT_LIMITS) -> None:
    """The zip's members counted from its end record, then every XML part's declared
    uncompressed size checked (see the module doc). TableError when over a budget."""
    members = _zip_member_count(data)
    if members is None:
        raise TableError("无法作为 Excel 工作簿打开(不是完整的 zip 文件)")
    if members > limits.max_zip_members:
        raise TableError(f"Excel 文件包含的部件过多({members} 个,上限 {limits.max_zip_members} 个)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise TableError("无法作为 Excel 工作簿打开(zip 文件损坏)") from None
    total = 0
    for info in infos:
        name = info.filename
        if not name.lower().endswith((".xml", ".rels", ".vml")):
            continue  # pictures and binaries: openpyxl's read-only mode does not read them
        limit = _part_limit(name, limits)
        if info.file_size > limit:
            raise TableError(
                f"Excel 文件中的 {name} 解压后 {_mb(info.file_size)},超过 {_mb(limit)} 上限"
                "(可能是压缩炸弹)"
            )
        total += info.file_size
        if total > limits.max_xml_bytes:
            raise TableError(
                f"Excel 文件解压后超过 {_mb(limits.max_xml_bytes)} 上限(可能是压缩炸弹)"
            )


def _part_limit(name: str, limits: TableLimits) -> int:
    lower = name.lower()
    if lower.endswith("sharedstrings.xml"):
        return limits.max_shared_strings_bytes
    if lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
        return limits.max_sheet_bytes
    return limits.max_part_bytes


_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"


def _zip_member_count(data: bytes) -> int | None:
    """Entries declared by the end-of-central-directory record (zip64 too), or None when
    there is none; read before zipfile builds an object per entry."""
    at = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        return None
    (entries,) = struct.unpack_from("<H", data, at + 10)
    if entries != 0xFFFF:
        return entries
    loc = data.rfind(b"PK\x06\x07", max(0, at - 20), at)  # zip64 end locator
    if loc < 0:
        return entries
    (offset,) = struct.unpack_from("<Q", data, loc + 8)
    if offset + 56 > len(data) or data[offset : offset + 4] != _EOCD64:
        return None
    (entries64,) = struct.unpack_from("<Q", data, offset + 32)
    return entries64


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB" if n < 10 * MB and n % MB else f"{n / MB:.0f} MB"


# -- budgets -----------------------------------------------------------------------------------


class _Budget:
    def __init__(self, limits: TableLimits):
        self.limits = limits
        self.cells = 0
        self.filler = 0

    def row(self, line: int, columns: int, present: int, filler: int = 0) -> None:
        lim = self.limits
        if line > lim.max_rows:
            raise TableError(f"超过 {lim.max_rows} 行,请分批导入", line)
        if columns > lim.max_columns:
            raise TableError(f"第{line}行有 {columns} 列,超过 {lim.max_columns} 列上限", line)
        self.cells += present
        if self.cells > lim.max_cells:
            raise TableError(
                f"单元格过多(到第{line}行已超过 {lim.max_cells} 个,含带格式的空单元格);"
                "请删除多余的行列或分批导入",
                line,
            )
        self.filler += filler
        if self.filler > 20 * lim.max_cells:
            raise TableError(f"表格过宽或空行过多(到第{line}行);请删除多余的行列", line)
