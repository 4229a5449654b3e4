"""Bounded row readers for the tables users hand in: CSV text and XLSX workbooks, shared by
the claims import (`ingest.claims`) and the print data (`render.record_sources`).

Each reader yields (line, cells) and stops with one `TableError` (a Chinese reason, without
the file name, which the caller adds) as soon as a budget is passed, before memory or time
runs out:
- CSV: physical line length (checked before the csv module splits it), field length
  (`csv.field_size_limit`, 131,072 characters by default), rows, columns, cells, characters;
- XLSX: the zip's member count (from its end record, before the directory is read), then
  EVERY member's declared uncompressed size, with a limit by the role openpyxl gives the
  part (`check_xlsx_package`: found as openpyxl finds it, through `[Content_Types].xml`
  and the workbook's relationships, never by its name's ending), and all members
  together; then, in one streamed pass over the first sheet's XML, the longest text or
  attribute (openpyxl holds each whole, however the sheet is streamed); then rows,
  columns, cells and characters of text while the sheet is streamed. Python's zipfile
  never returns more than a member's declared size and fails a member whose data differs
  from it (CRC check), so the declared sizes hold.

Measured (openpyxl 3.1, read-only): ~9 µs per cell; 16 MB of tiny shared strings take 15 s,
one 64 MB shared string 170 MB; 4 MB of empty `<xf/>` styles 460 MB and 15 s (16 MB would
be ~1.8 GB and a minute); a 0.3 MB XLSX can declare a part of hundreds of MB. A real month
of a network's claims is ~20,000 rows × 14 columns (280,000 cells, ~3 MB of shared
strings); the print data of a 1,500-tag batch ~1,500 rows × 20 columns.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from formdesk.model.errors import FormdeskError

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
    max_sheet_bytes: int = 256 * MB  # a worksheet: streamed; the cell budget bounds the work
    max_shared_strings_bytes: int = 16 * MB  # parsed into one Python list (~15 µs/string)
    # parts openpyxl reads whole and builds objects from: [Content_Types].xml, the workbook
    # and every relationships part, styles, theme, document properties. A real styles.xml
    # is well under 1 MB; 2 MB of empty cell formats cost 230 MB, which the parsing
    # process can afford (api/routes/claims.py) and 4 MB (~500 MB) it cannot.
    max_parsed_part_bytes: int = 2 * MB
    max_part_bytes: int = 16 * MB  # any other member (pictures, printer settings ...)
    max_total_bytes: int = 512 * MB  # all members together
    # one text or attribute in a sheet's XML, which openpyxl holds whole: an Excel cell
    # holds at most 32,767 characters (≤ 128 KB as UTF-8, ≤ 640 KB with every byte escaped)
    max_xml_text_bytes: int = 1 * MB
    # characters of all text cells together, which the callers hold in memory (a real month
    # of claims ~3 million)
    max_text_chars: int = 64_000_000


DEFAULT_LIMITS = TableLimits()


class TableError(FormdeskError, ValueError):
    """A table refused as a whole (HTTP 422); `str()` is one Chinese line (no file name),
    `line` the row or line it concerns, if one."""

    status = 422

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its line (by default only the message would cross a process)."""
        return (type(self), (str(self), self.line))


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
    given. TableError on a budget or a CSV syntax error, and for a quote never closed
    (the csv module would silently make one cell of everything after it)."""
    delimiter = delimiter or detect_delimiter(text)
    at = [0]  # where the lines read so far end
    reader = csv.reader(_bounded_lines(text, limits.max_line_chars, at), delimiter=delimiter)
    budget = _Budget(limits)
    line, begin, last = 0, 0, 0
    try:
        for line, row in enumerate(reader, start=1):  # noqa: B007
            last, begin = begin, at[0]  # where this record starts, where the next one does
            budget.row(line, len(row), len(row), chars=sum(map(len, row)))
            yield line, row
    except csv.Error as exc:
        record = line + 1  # the record being read (a quoted field may span many lines)
        if "field larger than field limit" in str(exc):
            raise TableError(
                f"第{record}行:有单元格超过 {csv.field_size_limit()} 个字符"
                "(若这一行有未闭合的引号,其后的内容都会被当作一个单元格)",
                record,
            ) from None
        # the csv module's other messages are English and name its internals: not shown
        raise TableError(f"第{record}行:CSV 格式错误,无法读取", record) from None
    if line and _quote_left_open(text[last:], delimiter):
        raise TableError(
            f"第{line}行:引号没有闭合,从这里到文件末尾都成了一个单元格;请检查这一行的引号",
            line,
        )


def _quote_left_open(record: str, delimiter: str) -> bool:
    """Whether the text of the last record ends inside a quoted field (what the csv
    module's strict mode calls "unexpected end of data")."""
    if '"' not in record:
        return False
    try:
        for _ in csv.reader(_bounded_lines(record, len(record) + 1, [0]), delimiter=delimiter, strict=True):  # fmt: skip
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


_LINE_END = re.compile(r"\r\n?|\n")


def _bounded_lines(text: str, max_chars: int, at: list[int]) -> Iterator[str]:
    """Physical lines, each checked before the csv module splits it into fields. A line
    ends with CR LF (Windows), LF or a lone CR (old Mac files, which the csv module would
    otherwise refuse with "new-line character seen in unquoted field"); the ending is kept,
    so a quoted cell spanning lines keeps its line breaks. `at[0]`: where the lines
    yielded so far end."""
    start, n = 0, 0
    while start < len(text):
        m = _LINE_END.search(text, start)
        end = len(text) if m is None else m.end()
        n += 1
        if end - start > max_chars:
            raise TableError(
                f"第{n}行过长({end - start} 个字符,上限 {max_chars} 个);请检查文件是否为表格",
                n,
            )
        at[0] = end
        yield text[start:end]
        start = end


# -- XLSX -------------------------------------------------------------------------------------


def xlsx_rows(data: bytes, limits: TableLimits = DEFAULT_LIMITS) -> Rows:
    """Rows of the first sheet (trailing empty cells dropped; None for an empty cell,
    `UnsavedFormula` for a formula without a saved result), numbered as the sheet numbers
    them. TableError when the workbook cannot be opened or a budget is passed."""
    first = check_xlsx_package(data, limits)
    if first is None:
        return
    # before openpyxl opens the workbook: opening parses the sheet up to its <dimension>,
    # or all of it when there is none
    formulas = _scan_sheet(data, first, limits)
    try:
        wb = _open_workbook(data, data_only=True)
    except MemoryError:  # not the file's damage: the limited process reports it
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken or foreign zip
        raise TableError(f"无法作为 Excel 工作簿打开({_broken(exc)})") from None
    formulas_wb = None
    try:
        ws = wb.worksheets[0]
        if ws._worksheet_path != first:  # the check and openpyxl disagree: refuse, not guess
            raise TableError("无法作为 Excel 工作簿打开(工作表的位置无法确定)")
        ws.reset_dimensions()  # WPS saves <dimension ref="A1"/> whatever the sheet holds
        formula_rows: Iterator[Any] | None = None
        if formulas:
            formulas_wb = _open_workbook(data, data_only=False)
            fws = formulas_wb.worksheets[0]
            fws.reset_dimensions()
            formula_rows = fws.iter_rows()
        yield from _sheet_rows(ws.iter_rows(), formula_rows, _Budget(limits))
    except (TableError, GeneratorExit, MemoryError):
        raise
    except Exception as exc:  # a part that breaks only while streamed, a CRC mismatch ...
        raise TableError(f"Excel 工作簿已损坏,无法读取({_broken(exc)})") from None
    finally:
        wb.close()
        if formulas_wb is not None:
            formulas_wb.close()


def _is_read_sheet(rel: Any, names: Iterable[str]) -> bool:
    """Whether openpyxl makes a worksheet of this <sheet>'s relationship: its part exists
    and it is not a chart sheet (`ExcelReader.read_worksheets`)."""
    return rel.target in names and "chartsheet" not in rel.Type


def _open_workbook(data: bytes, *, data_only: bool) -> Any:
    """openpyxl's read-only workbook with its first worksheet only, reading no more parts
    than `check_xlsx_package` measured for it: external links are not followed
    (keep_links=False), and neither chart sheets (openpyxl would read their drawings,
    charts and pictures whole) nor the other worksheets (opening each parses it up to its
    <dimension>) are opened."""
    from openpyxl.reader.excel import ExcelReader

    class FirstSheetOnly(ExcelReader):
        def read_worksheets(self) -> None:
            every = self.parser.find_sheets

            def first() -> Iterator[tuple[Any, Any]]:
                yield from [s for s in every() if _is_read_sheet(s[1], self.valid_files)][:1]

            self.parser.find_sheets = first
            super().read_worksheets()

    reader = FirstSheetOnly(io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False)
    with warnings.catch_warnings():  # defined names of sheets not opened
        warnings.simplefilter("ignore")
        reader.read()
    return reader.wb


def _broken(exc: BaseException) -> str:
    """What kind of damage an exception from zipfile or openpyxl means, in Chinese (its
    English message and type name are never shown)."""
    import zlib
    from xml.etree.ElementTree import ParseError

    if isinstance(exc, zipfile.BadZipFile | zlib.error | EOFError):
        return "zip 数据损坏"
    if isinstance(exc, KeyError):
        return "缺少必需的部件"
    if isinstance(exc, ParseError) or type(exc).__module__.startswith("defusedxml"):
        return "XML 格式错误或含有不允许的内容"
    if isinstance(exc.__cause__, ParseError):  # openpyxl wraps it: "Unable to read workbook"
        return "XML 格式错误"
    return "格式不受支持或内容已损坏"


def _sheet_rows(rows: Iterator[Any], formula_rows: Iterator[Any] | None, budget: _Budget) -> Rows:
    from openpyxl.cell.read_only import EmptyCell
    from openpyxl.utils import get_column_letter

    for line, row in enumerate(rows, start=1):
        present = sum(1 for c in row if not isinstance(c, EmptyCell))
        cells: list[Any] = [c.value for c in row]
        while cells and cells[-1] is None:  # formatting can stretch rows to column XFD
            cells.pop()
        chars = sum(len(v) for v in cells if isinstance(v, str))
        budget.row(line, len(cells), present, filler=len(row), chars=chars)
        if formula_rows is not None:
            frow = next(formula_rows, ())
            for i, fcell in enumerate(frow):
                if getattr(fcell, "data_type", None) == "f" and (
                    i >= len(cells) or cells[i] is None
                ):
                    cells.extend([None] * (i + 1 - len(cells)))
                    cells[i] = UnsavedFormula(f"{get_column_letter(i + 1)}{line}", str(fcell.value))
        yield line, cells


def _scan_sheet(data: bytes, part: str, limits: TableLimits) -> bool:
    """One streamed pass over the sheet part before openpyxl parses it: TableError when a
    run of text or an attribute (bytes between two '<') is longer than
    `max_xml_text_bytes`, which openpyxl would hold whole however the sheet is streamed;
    returns whether the sheet holds any <f> element (most exports have none, and then the
    second, formula-reading pass is skipped).

    A run longer than the chunk size must cross a chunk's edge, so only the runs that do
    are measured: exact, and a memchr per chunk."""
    step = limits.max_xml_text_bytes
    formulas = False
    last_lt, pos, tail = -1, 0, b""
    with zipfile.ZipFile(io.BytesIO(data)) as z, z.open(part.lstrip("/")) as f:
        while chunk := f.read(step):
            first = chunk.find(b"<")
            end = pos + first if first >= 0 else pos + len(chunk)
            if end - last_lt - 1 > step:
                raise TableError(
                    f"Excel 文件中的工作表 {part.lstrip('/')} 有一段文字超过 {_mb(step)}"
                    "(Excel 的单元格最多 32767 个字符);文件可能已损坏或是伪造的"
                )
            if first >= 0:
                last_lt = pos + chunk.rfind(b"<")
            if not formulas and (b"<f>" in tail + chunk or b"<f " in tail + chunk):
                formulas = True
            tail = chunk[-3:]
            pos += len(chunk)
    return formulas


def check_xlsx_package(data: bytes, limits: TableLimits = DEFAULT_LIMITS) -> str | None:
    """Every zip member's declared uncompressed size against the limit of its role, and all
    members together, before openpyxl reads any part for the rows (see the module doc).

    Roles are found as openpyxl 3.1 finds its parts (`reader/excel.py`), not from names:
    the shared strings are the first `[Content_Types].xml` override of that content type,
    the workbook the override of a workbook type, the worksheets the targets of the
    workbook relationships its `<sheet>` elements name. Limits: a worksheet
    `max_sheet_bytes` (streamed); the shared strings `max_shared_strings_bytes`; what
    openpyxl reads whole (content types, workbook, every `.rels`, styles, theme, document
    properties, `_PARSED_WHOLE`) `max_parsed_part_bytes`, even when also named a
    worksheet; any other member `max_part_bytes`. TableError naming the part when over.

    Returns the part of the first worksheet (what `xlsx_rows` reads), None without one."""
    members = _zip_member_count(data)
    if members is None:
        raise TableError("无法作为 Excel 工作簿打开(不是完整的 zip 文件)")
    if members > limits.max_zip_members:
        raise TableError(f"Excel 文件包含的部件过多({members} 个,上限 {limits.max_zip_members} 个)")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise TableError("无法作为 Excel 工作簿打开(zip 文件损坏)") from None
    with z:
        infos = z.infolist()
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_bytes:
            raise TableError(
                f"Excel 文件解压后共 {_mb(total)},超过 {_mb(limits.max_total_bytes)} 上限"
                "(可能是压缩炸弹)"
            )
        roles, first = _part_roles(z, limits)
    for info in infos:
        role, limit = roles.get(info.filename, ("", limits.max_part_bytes))
        _check_part(info, role, limit)
    return first


_PARSED_WHOLE = (  # read whole by name when present (openpyxl.xml.constants)
    "[Content_Types].xml",
    "docProps/core.xml",
    "docProps/custom.xml",
    "xl/theme/theme1.xml",
    "xl/styles.xml",
)
_ROLE_NAMES = {
    "[Content_Types].xml": "内容类型表",
    "docProps/core.xml": "文档属性",
    "docProps/custom.xml": "自定义属性",
    "xl/theme/theme1.xml": "主题",
    "xl/styles.xml": "样式表",
}


def _check_part(info: zipfile.ZipInfo, role: str, limit: int) -> None:
    if info.file_size > limit:
        raise TableError(
            f"Excel 文件中的{role or '部件'} {info.filename} 解压后 {_mb(info.file_size)},"
            f"超过 {_mb(limit)} 上限(可能是压缩炸弹)"
        )


def _part_roles(
    z: zipfile.ZipFile, limits: TableLimits
) -> tuple[dict[str, tuple[str, int]], str | None]:
    """Part name -> (role in Chinese, limit) for the parts openpyxl will read, and the first
    worksheet's part; each part is measured before it is read here. TableError when the
    package cannot be understood."""

    from openpyxl.packaging.manifest import Manifest
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import _find_workbook_part
    from openpyxl.reader.workbook import WorkbookParser
    from openpyxl.xml.constants import SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    parsed = limits.max_parsed_part_bytes
    roles: dict[str, tuple[str, int]] = {n: (_ROLE_NAMES[n], parsed) for n in _PARSED_WHOLE}
    sizes = {info.filename: info for info in z.infolist()}

    def read_whole(name: str, role: str, limit: int = parsed) -> None:
        roles[name] = (role, min(limit, roles.get(name, ("", limit))[1]))
        if name in sizes:
            _check_part(sizes[name], *roles[name])

    try:
        read_whole("[Content_Types].xml", _ROLE_NAMES["[Content_Types].xml"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            package = Manifest.from_tree(fromstring(z.read("[Content_Types].xml")))
            strings = package.find(SHARED_STRINGS)
            if strings is not None:
                name = strings.PartName[1:]
                read_whole(name, "共享字符串表", limits.max_shared_strings_bytes)
            workbook = _find_workbook_part(package).PartName[1:]
            read_whole(workbook, "工作簿")
            read_whole(get_rels_path(workbook), "工作簿关系表")
            parser = WorkbookParser(z, workbook, keep_links=False)
            parser.parse()
            links = [rel for _, rel in parser.find_sheets()]
    except (TableError, MemoryError):
        raise
    except Exception as exc:  # what openpyxl would fail on as well
        raise TableError(f"无法作为 Excel 工作簿打开({_broken(exc)})") from None
    for rel in links:
        read_whole(get_rels_path(rel.target), "工作表关系表")
        roles.setdefault(rel.target, ("工作表", limits.max_sheet_bytes))
    for name in sizes:
        if name.endswith(".rels"):  # any relationships part openpyxl may parse
            roles.setdefault(name, ("关系表", parsed))
    first = next((rel.target for rel in links if _is_read_sheet(rel, sizes)), None)
    return roles, first


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
    if n < MB // 10:
        return f"{n / 1024:.0f} KB"
    return f"{n / MB:.1f} MB" if n < 10 * MB and n % MB else f"{n / MB:.0f} MB"


# -- budgets -----------------------------------------------------------------------------------


class _Budget:
    def __init__(self, limits: TableLimits):
        self.limits = limits
        self.cells = 0
        self.filler = 0
        self.chars = 0

    def row(self, line: int, columns: int, present: int, filler: int = 0, chars: int = 0) -> None:
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
        self.chars += chars
        if self.chars > lim.max_text_chars:
            raise TableError(
                f"文字过多(到第{line}行已超过 {lim.max_text_chars} 个字符);请分批导入", line
            )


# -- what a table file is, and its text: one policy for claims and print data ----------------

NOT_A_TABLE = {
    b"%PDF-": "PDF 文件",
    b"\x89PNG": "PNG 图片",
    b"\xff\xd8\xff": "JPEG 图片",
    b"II*\x00": "TIFF 图片",
    b"MM\x00*": "TIFF 图片",
    b"\xd0\xcf\x11\xe0": "旧版 Excel(.xls)或加密的 Office 文件",
    b"\x1f\x8b": "压缩文件",
    b"Rar!": "压缩文件",
    b"7z\xbc\xaf": "压缩文件",
}
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xltx")


def table_kind(data: bytes, filename: str = "") -> str:
    """The kind of table, "xlsx" or "text" (CSV), from the content; the name only explains
    a refusal (a .xlsx that is really text or a web page).  TableError for a file that is
    no table (a PDF, an image, an old .xls, an archive)."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    for magic, kind in NOT_A_TABLE.items():
        if data.startswith(magic):
            raise TableError(f"这是{kind},不是 CSV 或 Excel(.xlsx)表格")
    if filename.lower().endswith(EXCEL_SUFFIXES):
        raise TableError("扩展名是 Excel,内容却不是 Excel 工作簿(可能是改了扩展名的文本或网页)")
    return "text"


def decode_text(data: bytes) -> str:
    """A CSV's text as Excel and the warranty system save it: UTF-8 (with or without BOM),
    UTF-16 with BOM (Excel's "Unicode text"), else GB18030 (GBK, Chinese Excel's default).
    TableError when it is none of them (binary, another encoding), or when it is UTF-8
    Chinese with a damaged byte further on (named by its line: read as GBK, the whole
    file would come out garbled without an error)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif data[:8192].count(b"\x00") * 100 <= len(data[:8192]):
        # (UTF-16 without its BOM is every other byte NUL; a stray NUL in a UTF-8 value
        # is left to the value checks, which refuse it naming the field)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            head = data[: exc.start]
            if any(b >= 0x80 for b in head):  # UTF-8 Chinese before it: a damaged UTF-8 file
                line = head.count(b"\n") + 1  # (read as GBK it would print garbage)
                raise TableError(
                    f"第{line}行:不是有效的 UTF-8 编码(文件中有损坏的字节)", line
                ) from None
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    raise TableError("不是 CSV 或 Excel(.xlsx)表格,或编码无法识别(应为 UTF-8 或 GBK)")
