"""Warranty claims (三包索赔单) read and checked: a claims file exported by the warranty
system (CSV or XLSX), or the rows of a read SH-ZH/BD-25 monthly repair feedback.
Storing them is a service's (`services/claims.py`).

The people fixing these files do it by hand in Excel, so every problem names its line
(the sheet's row number; header = 1) and column, all problems are reported at once, and
a file with any bad row stores nothing.

Every text cell is checked as print data and corrections are (`templates.values.text`):
lone surrogates, control characters (line breaks only in 故障描述), bidirectional
controls and U+2028/U+2029 are refused. Other invisible formatting characters (Unicode
category Cf: zero-width space and joiners, word joiner, soft hyphen, a BOM inside a
value, ...) are removed, not refused: they carry no meaning in these fields, come from
copying out of web pages or files joined with their BOM, and a claim or part number
keeping one would silently fail to match the same number on a returned part's tag.
Typed characters are read as print data's are (`templates.values.width`): full-width
digits, letters and punctuation as ASCII (NFKC for codes, numbers, dates and amounts; only
the full-width ASCII forms in names and descriptions). What Excel does to long numbers
is refused naming the cell (`templates.values.spreadsheet`): a code written in
scientific notation (2.02603E+15) or kept as a number of 16 digits or more, and a
two-digit year that reads as more than one date (`templates.values.dates`). A header of
two rows, group titles above the column names (merged cells in Excel, a row of titles
and blanks in a CSV), is read as one (`_header`).
Every column has a length limit (`ClaimColumn.max_chars`, from the sizes of the catalog's
value types, `templates.values.bounds`), and numbers their range (BD-25's own limits).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from openpyxl.utils import get_column_letter
from pydantic import ValidationError
from rapidfuzz import fuzz, process

from formdesk.model.claims import Claim, ClaimFileError, ClaimFileTooLarge, RowProblem, Station  # noqa: F401  (re-exported)
from formdesk.model.stored import StoredRecord
from formdesk.templates.schema import FieldType
from formdesk.templates.values.bounds import BILLION, MAX_CHARS, SHORT
from formdesk.templates.values.dates import DateValueError, parse_date
from formdesk.templates.values.money import MoneyValueError, parse_amount
from formdesk.templates.values.normalize import fold
from formdesk.templates.values.spreadsheet import (
    excel_error_reason,
    inexact_reason,
    is_excel_error,
    is_inexact_number,
    is_scientific,
    scientific_reason,
)
from formdesk.templates.values.text import remove_refused, text_problem
from formdesk.templates.values.vin import vin_problem
from formdesk.templates.values.width import ascii_forms, code_form

from .tables import (
    Rows,
    TableError,
    TableLimits,
    UnsavedFormula,
    csv_rows,
    decode_text,
    delimiter_name,
    table_kind,
    unsaved_formulas_reason,
    xlsx_rows,
)

MB = 1024 * 1024
MAX_CLAIMS_BYTES = 20 * MB  # a month of a whole network's claims is a few MB
TABLE_LIMITS = TableLimits()  # rows, columns, cells, CSV line length, XLSX parts
MAX_ROWS = (
    TABLE_LIMITS.max_rows
)  # an XLSX compresses ~10x: bounds the work a small file can ask for
MAX_PROBLEMS = 200  # listed; the rest are counted
FEEDBACK_TEMPLATE = "SH-ZH/BD-25"
FEEDBACK_TABLE = "warranty_repairs"
NO_DATA = "文件中没有索赔数据"


# -- columns ---------------------------------------------------------------------------------

Parser = Callable[[Any], Any]


# characters a cell may hold (after trimming; the value stored too): a code or a number
# as a date, VIN or amount is typed, with separators and units (bounds.SHORT); names as
# a single-line form box (bounds.MAX_CHARS[text]); the fault description as a multi-line
# one (bounds.MAX_CHARS[multiline])
CODE_CHARS = SHORT  # 40
NAME_CHARS = 100  # a station's or a model's name (BD-25 prints them in 17 mm)
TEXT_CHARS = MAX_CHARS[FieldType.text]  # 200
LONG_TEXT_CHARS = MAX_CHARS[FieldType.multiline]  # 2000


@dataclass(frozen=True)
class ClaimColumn:
    label: str  # how problems name the column
    names: tuple[str, ...]  # headers understood besides the label (folded when compared)
    required: bool
    parse: Parser  # raw cell -> value; ValueError(reason) when it is not acceptable
    max_chars: int = CODE_CHARS  # of the trimmed text, and of the value stored
    multiline: bool = False  # line breaks and tabs allowed inside
    code: bool = False  # a code typed as digits (claim, part, engine, station number, VIN)


def _show(raw: Any) -> str:
    text = raw.isoformat() if isinstance(raw, date) else str(raw)
    return f"“{text.strip()}”"


def _hint(exc: Exception) -> str:
    """The parenthesised hint of a normaliser's message, e.g. (月份应为1–12)."""
    m = re.search(r"(\(.*\))\s*$", str(exc))
    return m[1] if m else ""


def _plain(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw)


def _text(raw: Any) -> str:
    """Names and descriptions: full-width letters, digits and punctuation become ASCII,
    as on print data (`width.ascii_forms`); the rest as typed."""
    return ascii_forms(_plain(raw)).strip()


def _typed(raw: Any) -> str:
    """Codes, numbers, dates and amounts: NFKC (`width.code_form`) before parsing."""
    return code_form(_plain(raw)).strip()


def _code(raw: Any) -> str:
    """Claim, part and engine numbers compare without spaces and case."""
    return re.sub(r"\s+", "", _typed(raw)).upper()


def _vin(raw: Any) -> str:
    vin = _code(raw)
    if problem := vin_problem(vin):
        raise ValueError(f"{_show(raw)}不是有效的车架号,{problem}")
    return vin


def _integer(minimum: int, maximum: int, units: str) -> Parser:
    """Whole numbers from `minimum` to `maximum`, with an optional unit. The range is
    checked on the Decimal, before `int()`: 1e1000000 would take int() half a minute."""
    unit = re.compile(rf"\s*(?:{units})$", re.IGNORECASE)

    def parse(raw: Any) -> int:
        if isinstance(raw, bool):
            raise ValueError(f"{_show(raw)}不是整数")
        text = unit.sub("", _typed(raw)).replace(",", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{_show(raw)}不是整数") from None
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError(f"{_show(raw)}不是整数")
        if value < minimum:
            raise ValueError(f"{_show(raw)}不能小于 {minimum}")
        if value > maximum:
            raise ValueError(f"{_show(raw)}不能大于 {maximum}")
        return int(value)

    return parse


_EXCEL_SERIALS = (20_000, 80_000)  # 1954 … 2119 as Excel day numbers
_TRAILING_TIME = re.compile(r"\s+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")


def _date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if _EXCEL_SERIALS[0] <= raw <= _EXCEL_SERIALS[1]:  # a date cell formatted as number
            from openpyxl.utils.datetime import from_excel

            return from_excel(raw).date()
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError(f"{_show(raw)}不是有效日期")
    text = _TRAILING_TIME.sub("", _typed(raw))
    try:
        return parse_date(text)
    except DateValueError as exc:
        if str(exc).startswith("日期有歧义"):  # a two-digit year: the whole reason
            raise ValueError(str(exc)) from None
        raise ValueError(f"{_show(raw)}不是有效日期{_hint(exc)}") from None


def _money(raw: Any) -> Decimal:
    try:
        amount = parse_amount(_typed(raw) if not isinstance(raw, int | float) else raw)
    except MoneyValueError as exc:
        raise ValueError(f"{_show(raw)}不是有效金额{_hint(exc)}") from None
    if amount < 0:
        raise ValueError(f"{_show(raw)}不能为负数")
    if amount >= BILLION:  # bounds.NUMBER_LIMITS[money]
        raise ValueError(f"{_show(raw)}不能大于 {BILLION - Decimal('0.01')}")
    return amount


# The field of `Claim` each column fills. Headers are matched after folding (`_fold`):
# full-width forms, case, spaces, a leading * and a bracketed unit such as (元) do not count.
COLUMNS: dict[str, ClaimColumn] = {
    "claim_no": ClaimColumn(
        "索赔单号",
        ("索赔号", "索赔单编号", "索赔编号", "claim_no", "claimno"),
        True,
        _code,
        code=True,
    ),
    "station": ClaimColumn(
        "维修站",
        ("服务站", "维修站名称", "维修站代码", "服务站名称", "服务站代码", "站号", "station"),
        True,
        _text,
        NAME_CHARS,
        code=True,  # a station code may be digits
    ),
    "vin": ClaimColumn(
        "车架号",
        ("vin", "vin码", "车架号/vin", "vin/车架号", "车辆识别代号", "车辆识别号", "底盘号"),
        True,
        _vin,
        code=True,
    ),
    "engine_no": ClaimColumn(
        "发动机号", ("发动机编号", "发动机号码", "engine_no"), False, _code, code=True
    ),
    "vehicle_model": ClaimColumn(
        "车型",
        ("车辆型号", "车型号", "整车型号", "vehicle_model", "model"),
        True,
        _text,
        NAME_CHARS,
    ),
    "part_no": ClaimColumn(
        "零件编号",
        ("零件号", "配件编号", "配件号", "零件代码", "配件代码", "零件图号", "part_no"),
        True,
        _code,
        code=True,
    ),
    "part_name": ClaimColumn(
        "零件名称", ("配件名称", "零件名", "配件名", "part_name"), True, _text, TEXT_CHARS
    ),
    # the ranges of SH-ZH/BD-25's own columns (quantity 1–999, mileage 0–2,000,000 km)
    "quantity": ClaimColumn(
        "数量",
        ("零件数量", "配件数量", "quantity", "qty"),
        True,
        _integer(1, 999, "件|个|只|套|pcs"),
    ),
    "purchase_date": ClaimColumn(
        "购买日期", ("购车日期", "销售日期", "开票日期", "purchase_date"), True, _date
    ),
    "repair_date": ClaimColumn(
        "维修日期", ("修理日期", "报修日期", "维修时间", "repair_date"), True, _date
    ),
    "mileage_km": ClaimColumn(
        "行驶里程",
        ("里程", "公里数", "行驶公里", "里程数", "mileage", "mileage_km"),
        True,
        _integer(0, 2_000_000, "km|公里"),
    ),
    "fault_description": ClaimColumn(
        "故障描述",
        ("故障现象", "fault_description"),
        False,
        _text,
        LONG_TEXT_CHARS,
        multiline=True,
    ),
    "labor_fee": ClaimColumn("工时费", ("工时费用", "工时费金额", "labor_fee"), False, _money),
    "material_fee": ClaimColumn(
        "材料费", ("配件费", "材料费用", "配件费用", "material_fee"), False, _money
    ),
}
LABELS = {key: col.label for key, col in COLUMNS.items()}


@cache
def _format_chars() -> re.Pattern[str]:
    """Every invisible formatting character (Unicode category Cf), built once (~0.2 s)."""
    chars = (chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf")
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]")


def _cell_text(raw: str, col: ClaimColumn) -> str:
    """A text cell as the column's parser gets it: trimmed of spaces and line breaks,
    refused (ValueError, the Chinese reason) for a character `text.text_problem` refuses
    or beyond the column's length, invisible formatting characters removed (module doc)."""
    text = raw.strip(" \t\r\n")  # what Excel leaves around a value; not VT, FF, NEL ...
    if len(text) > col.max_chars:  # before any other work on it
        raise ValueError(_too_long(col, len(text)))
    if problem := text_problem(text, multiline=col.multiline):
        raise ValueError(problem)
    return _format_chars().sub("", text) if not text.isascii() else text


def _too_long(col: ClaimColumn, chars: int) -> str:
    return f"内容太长:最多 {col.max_chars} 个字符,实际 {chars} 个"


def _parse_cell(col: ClaimColumn, raw: Any) -> Any:
    """The column's value of one cell; ValueError with the Chinese reason. A number Excel
    wrote in scientific notation is refused in every column but the description, so is
    a formula's error value (#N/A …), and a numeric cell of 16 digits or more in a code
    column (`templates.values.spreadsheet`)."""
    if isinstance(raw, str):
        raw = _cell_text(raw, col)
        if not raw:
            raise ValueError("只有不可见的字符(如零宽空格),请清空后重新填写")
        if not col.multiline and is_scientific(code_form(raw)):
            raise ValueError(scientific_reason(raw))
        if is_excel_error(raw):
            raise ValueError(excel_error_reason(raw))
    elif col.code and is_inexact_number(raw):
        raise ValueError(inexact_reason(raw))
    value = col.parse(raw)
    if isinstance(value, str) and len(value) > col.max_chars:  # NFKC can lengthen text
        raise ValueError(_too_long(col, len(value)))
    return value


def _quoted(title: str, limit: int = 24) -> str:
    """A header as a message quotes it: without refused characters, at most `limit`."""
    text = remove_refused(title)
    return f"“{text if len(text) <= limit else text[:limit] + '…'}”"


_BRACKETED = re.compile(r"[(\[【<{].*?[)\]】>}]")


def _fold(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).casefold()
    text = _BRACKETED.sub("", text)
    return re.sub(r"[\s*:]+", "", text)


HEADERS: dict[str, str] = {
    _fold(name): key for key, col in COLUMNS.items() for name in (col.label, *col.names)
}
_SUGGEST = 60  # rapidfuzz ratio from which an unknown header is offered a known field


def _looks_like(header: str) -> str | None:
    """The field an unknown header probably means (维修日 → 维修日期), for the message."""
    found = process.extractOne(
        _fold(header), HEADERS.keys(), scorer=fuzz.ratio, score_cutoff=_SUGGEST
    )
    return HEADERS[found[0]] if found else None


# -- reading the file ------------------------------------------------------------------------

SAVE_AS = "请在 Excel 中另存为 .xlsx 或 CSV 后再导入"


def _size_text(size: int) -> str:
    return f"{size / MB:.1f} MB"


def check_size(size: int, filename: str = "", max_bytes: int = MAX_CLAIMS_BYTES) -> None:
    """Refuses a file over the limit from its size alone (stat, or the upload's size)."""
    if size > max_bytes:
        reason = f"文件 {_size_text(size)},超过 {max_bytes // MB} MB 上限"
        raise ClaimFileTooLarge(f"{filename}:{reason}" if filename else reason)


def _refuse(filename: str, reason: str, line: int | None = None) -> ClaimFileError:
    return ClaimFileError(
        f"{filename}:{reason}" if filename else reason, [RowProblem(line=line, reason=reason)]
    )


def _sniff(data: bytes, filename: str) -> str:
    """ "xlsx" or "text" (`ingest.tables.table_kind`), a refusal as ClaimFileError."""
    try:
        return table_kind(data, filename)
    except TableError as exc:
        raise _refuse(filename, f"{exc};{SAVE_AS}") from None


def _decode(data: bytes, filename: str) -> str:
    """The text of a CSV (`ingest.tables.decode_text`), a refusal as ClaimFileError."""
    try:
        return decode_text(data)
    except TableError as exc:
        raise _refuse(filename, f"{exc};{SAVE_AS}") from None


def _csv_rows(data: bytes, filename: str) -> Rows:
    text = _decode(data, filename)
    yield from _table_rows(csv_rows(text, TABLE_LIMITS), filename)


def _xlsx_rows(data: bytes, filename: str) -> Rows:
    yield from _table_rows(xlsx_rows(data, TABLE_LIMITS), filename)


def _table_rows(rows: Rows, filename: str) -> Rows:
    """The rows of `ingest.tables`, its refusals as ClaimFileError (a CSV error keeps its
    line; an XLSX that cannot be opened is told how to save it)."""
    try:
        yield from rows
    except TableError as exc:
        reason = str(exc)
        if reason.startswith("无法作为 Excel"):
            reason += f";{SAVE_AS}"
        raise _refuse(filename, reason, exc.line) from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# -- rows into claims ------------------------------------------------------------------------


class _Problems:
    """Every problem, the first MAX_PROBLEMS kept."""

    def __init__(self) -> None:
        self.items: list[RowProblem] = []
        self.total = 0

    def add(self, line: int | None, column: str | None, reason: str) -> None:
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(RowProblem(line=line, column=column, reason=reason))

    def raise_if_any(self, filename: str) -> None:
        if not self.total:
            return
        listed = list(self.items)
        if self.total > len(listed):
            listed.append(RowProblem(reason=f"还有 {self.total - len(listed)} 处问题未列出"))
        prefix = f"{filename}:" if filename else ""
        what = str(listed[0]) if self.total == 1 else f"{self.total} 处错误"
        raise ClaimFileError(f"{prefix}{what},未导入任何索赔单", listed, total=self.total)


# reasons about what a spreadsheet did to a cell, which name the cell (C2) too
_NAMES_CELL = re.compile("科学计数法|日期有歧义|错误值")


class _Claims:
    """Rows into checked claims, collecting every problem (a repeated claim number too)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.claims: list[Claim] = []
        self.problems = _Problems()
        self._first_line: dict[str, int] = {}

    def add(self, values: dict[str, Any], line: int, refs: dict[str, str] | None = None) -> None:
        """One row, field key -> raw cell; `refs`, field key -> the cell's name (C2) in a
        file, named in a refusal that concerns the cell itself (a spreadsheet's doing)."""
        clean: dict[str, Any] = {}
        bad = False
        for key, col in COLUMNS.items():
            raw = values.get(key)
            if _blank(raw):
                if col.required:
                    self.problems.add(line, col.label, "不能为空")
                    bad = True
                continue
            try:
                clean[key] = _parse_cell(col, raw)
            except ValueError as exc:
                reason = str(exc)
                if refs and key in refs and _NAMES_CELL.search(reason):
                    reason = f"单元格 {refs[key]} {reason}"
                self.problems.add(line, col.label, reason)
                bad = True
        claim_no = clean.get("claim_no")
        if claim_no:
            if claim_no in self._first_line:
                first = self._first_line[claim_no]
                self.problems.add(line, LABELS["claim_no"], f"“{claim_no}”与第{first}行重复")
                bad = True
            else:
                self._first_line[claim_no] = line
        bought, repaired = clean.get("purchase_date"), clean.get("repair_date")
        if bought and repaired and repaired < bought:
            self.problems.add(line, LABELS["repair_date"], f"{repaired} 早于购买日期 {bought}")
            bad = True
        if bad:
            return
        try:
            self.claims.append(Claim(**clean, source=self.source, source_line=line))
        except ValidationError as exc:  # the parsers check what Claim checks; kept as a guard
            fields = "、".join(LABELS.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors())
            self.problems.add(line, None, f"数据不合格({fields}),无法保存为索赔单")


def _known(header: list[Any]) -> int:
    """How many cells of a header row name a claims column."""
    return sum(_fold(str(c)) in HEADERS for c in header if not _blank(c))


def _two_rows(groups: list[Any], names: list[Any]) -> list[Any]:
    """One header from a two-row one: group titles above (a merged cell keeps its text in
    its first column only, a CSV leaves the columns after it blank), column names below.
    A column's name is the lower cell; where that is blank the upper one (a title merged
    over both rows); a lower cell that names no column is tried with its group's title
    around it (费用 over 工时/材料: 工时费用)."""
    out: list[Any] = []
    group = ""
    for i in range(max(len(groups), len(names))):
        upper = groups[i] if i < len(groups) else None
        lower = names[i] if i < len(names) else None
        if not _blank(upper):
            group = str(upper).strip()
        if _blank(lower):
            out.append(upper)
            continue
        name = str(lower).strip()
        if _fold(name) not in HEADERS and group:
            name = next((n for n in (group + name, name + group) if _fold(n) in HEADERS), name)
        out.append(name)
    return out


def _header(rows: list[tuple[int, list[Any]]]) -> tuple[int, list[Any]]:
    """The header: among the first non-blank rows, the one naming most columns (a title
    row above the header is common in exports), or two adjacent rows read as one
    (`_two_rows`) when together they name more. Returns the (last) header row's line
    and the header's cells."""
    candidates = [(line, row) for line, row in rows if any(not _blank(c) for c in row)][:10]
    best = max(candidates, key=lambda item: _known(item[1]))
    for (line1, upper), (line2, lower) in zip(candidates, candidates[1:], strict=False):
        if line2 != line1 + 1:
            continue
        joined = _two_rows(upper, lower)
        if _known(joined) > _known(best[1]):
            best = (line2, joined)
    return best


def _is_code_header(title: str) -> bool:
    return any(w in _fold(title) for w in ("代码", "编码", "编号", "站号", "code"))


def _map_header(line: int, header: list[Any], filename: str, hint: str = "") -> dict[int, str]:
    """Column index -> Claim field; one error naming what is missing and not understood."""
    mapping: dict[int, str] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    problems = _Problems()
    for index, cell in enumerate(header):
        if _blank(cell):
            continue
        title = str(cell).strip()
        key = HEADERS.get(_fold(title))
        if key is None:
            unknown.append(title)
        elif key == "station" and key in seen:
            # exports often carry both 维修站代码 and 维修站名称: the code is unambiguous
            if _is_code_header(title) and not _is_code_header(seen[key]):
                mapping = {i: k for i, k in mapping.items() if k != key}
                seen[key] = title
                mapping[index] = key
        elif key in seen:
            problems.add(
                line,
                None,
                f"{_quoted(seen[key])}与{_quoted(title)}都是{LABELS[key]}列,请删去或改名其中一列",
            )
        else:
            seen[key] = title
            mapping[index] = key
    missing = [col.label for key, col in COLUMNS.items() if col.required and key not in seen]
    if missing:  # other unknown headers are columns the claims do not need
        parts = [f"缺少必需的列:{'、'.join(missing)}"] if missing else []
        if unknown:
            named = []
            for t in unknown[:20]:
                guess = _looks_like(t[:100])
                named.append(_quoted(t) + (f"(是否为“{LABELS[guess]}”?)" if guess else ""))
            if len(unknown) > 20:
                named.append(f"等 {len(unknown)} 个")
            parts.append(f"无法识别的表头:{'、'.join(named)}")
        if hint:
            parts.append(hint)
        problems.add(line, None, ";".join(parts))
    problems.raise_if_any(filename)
    return mapping


def _separator_hint(data: bytes, kind: str, header: list[Any]) -> str:
    """When a CSV's header is one cell, the separator was not understood: say which
    separators are, and which one the file seems to use."""
    cells = [c for c in header if not _blank(c)]
    if kind != "text" or len(cells) != 1:
        return ""
    title = str(cells[0])
    used = max(("|", "；", "，", " "), key=title.count)
    seen = f"文件似乎用“{used}”分隔;" if title.count(used) >= 2 else ""
    known = "、".join(delimiter_name(d) for d in (",", ";", "\t"))
    return f"{seen}CSV 的分隔符应为{known}"


def _refuse_unsaved_formulas(
    rows: list[tuple[int, list[Any]]], header_line: int, mapping: dict[int, str], filename: str
) -> None:
    """Formula cells of the claims' columns whose results were never saved: their values
    are unknown (openpyxl gives None, which would pass as empty or 0), so the file is
    refused naming the cells."""
    unsaved: dict[str, list[UnsavedFormula]] = {}
    for line, row in rows:
        if line <= header_line:
            continue
        for i, key in mapping.items():
            if i < len(row) and isinstance(row[i], UnsavedFormula):
                unsaved.setdefault(key, []).append(row[i])
    if not unsaved:
        return
    problems = _Problems()
    for key, cells in unsaved.items():
        problems.add(None, LABELS[key], unsaved_formulas_reason(cells))
    reason = "; ".join(unsaved_formulas_reason(c, LABELS[k]) for k, c in unsaved.items())
    raise ClaimFileError(f"{filename}:{reason}" if filename else reason, problems.items)


def read_claims(data: bytes, filename: str, *, source: str) -> list[Claim]:
    """The claims of a CSV or XLSX file, checked; `station` holds the value as given (code
    or name, see `resolve_stations`). Raises ClaimFileError with every problem."""
    check_size(len(data), filename)
    if not data.strip():
        raise _refuse(filename, NO_DATA)
    kind = _sniff(data, filename)
    reader = _xlsx_rows if kind == "xlsx" else _csv_rows
    rows = list(reader(data, filename))
    if not any(any(not _blank(c) for c in row) for _, row in rows):
        raise _refuse(filename, NO_DATA)
    header_line, header = _header(rows)
    mapping = _map_header(header_line, header, filename, _separator_hint(data, kind, header))
    _refuse_unsaved_formulas(rows, header_line, mapping, filename)
    found = _Claims(source)
    for line, row in rows:
        if line <= header_line or all(_blank(c) for c in row):
            continue
        refs = {key: f"{get_column_letter(i + 1)}{line}" for i, key in mapping.items()}
        found.add({key: row[i] for i, key in mapping.items() if i < len(row)}, line, refs)
    if not found.claims and not found.problems.total:
        raise _refuse(filename, NO_DATA)
    found.problems.raise_if_any(filename)
    return found.claims


# -- stations ----------------------------------------------------------------------------------


def resolve_stations(
    stations: list[Station], claims: list[Claim]
) -> tuple[list[Claim], list[Station]]:
    """Each claim's station value as a station code: a known code, else a known name, else a
    new station (code and name = the value). Returns the claims and the new stations."""
    by_code = {fold(s.code): s.code for s in stations}
    by_name: dict[str, str] = {}
    for s in stations:
        by_name.setdefault(fold(s.name), s.code)
    new: dict[str, Station] = {}
    out = []
    for claim in claims:
        value = claim.station.strip()
        key = fold(value)
        code = by_code.get(key) or by_name.get(key)
        if code is None:
            station = new.setdefault(key, Station(code=value, name=value))
            code = station.code
        out.append(claim if code == claim.station else claim.model_copy(update={"station": code}))
    return out, list(new.values())


def new_import_id() -> str:
    return secrets.token_hex(5)


def parse_claims_file(data: bytes, filename: str, import_id: str) -> list[Claim]:
    """The parsing step of an import, bytes to checked claims (`read_claims`, the claims'
    source "import:<import_id>"): module-level, its arguments, result and ClaimFileError
    picklable, so the API runs it in a limited worker process."""
    return read_claims(data, filename, source=f"import:{import_id}")


# -- SH-ZH/BD-25 records --------------------------------------------------------------------------


def _record_field(record: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((f for f in record.get("fields", []) if f.get("key") == key), None)


def _feedback_claims(stored: StoredRecord, source: str) -> list[Claim]:
    summary = stored.summary
    if summary.template != FEEDBACK_TEMPLATE:
        raise ClaimFileError(
            f"记录 {summary.record_id} 是 {summary.template},不是{FEEDBACK_TEMPLATE}"
            "(月份维修信息反馈),不能导入索赔单"
        )
    if summary.status == "needs_review":
        raise ClaimFileError("记录尚有待复核的栏目,请先复核")
    name_field = _record_field(stored.record, "station_name") or {}
    station = summary.station or name_field.get("value")
    if _blank(station):
        raise ClaimFileError("记录没有维修站(上传时未指定,表上也没有填写),无法导入")
    table = _record_field(stored.record, FEEDBACK_TABLE) or {}
    rows = table.get("value") or []
    found = _Claims(source)
    for row_no, row in enumerate(rows, start=1):  # 第n行 as the reader and corrections count
        if not all(_blank(v) for v in row.values()):
            found.add({**row, "station": station}, row_no)
    if not found.claims and not found.problems.total:
        raise ClaimFileError("记录中没有三包维修明细")
    found.problems.raise_if_any(f"记录 {summary.record_id}")
    return found.claims


def claims_from_feedback(stored: StoredRecord) -> list[Claim]:
    """The claims of a read SH-ZH/BD-25 record, one per table row (source_line = row as
    printed). Refuses another form and a record still needing review (ClaimFileError)."""
    return _feedback_claims(stored, f"record:{stored.summary.record_id}")
