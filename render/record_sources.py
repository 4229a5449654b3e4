"""Reading prefill records from JSON, CSV (UTF-8) and XLSX files.

Columns are field keys or their Chinese labels; a table field's cell holds a JSON list of
rows.  Every problem names its line and column, because users fix these files by hand.
Files are bounded like the claims files: size first, then rows, columns, cells, CSV line
length and XLSX parts through `formdesk.ingest.tables`.

Nothing in a file is left out without a word: a value in a column without a header, two
columns for one field, a numeric XLSX cell too long to be exact (Excel keeps 15 digits,
`templates.values.spreadsheet`) and formulas without saved results are refused naming
the cell; every value is then checked as typed values are (`normalize_record`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from formdesk.ingest.tables import (
    TableError,
    TableLimits,
    UnsavedFormula,
    csv_rows,
    decode_text,
    table_kind,
    unsaved_formulas_reason,
    xlsx_rows,
)
from formdesk.model.errors import FormdeskError
from formdesk.templates.schema import FieldType, FormField, Template
from formdesk.templates.values.spreadsheet import inexact_reason, is_inexact_number
from formdesk.templates.values.text import shown

if TYPE_CHECKING:
    from formdesk.templates.station_fields import OwnStation

MB = 1024 * 1024
MAX_BYTES = 20 * MB  # a 1,500-row print batch is well under 1 MB
TABLE_LIMITS = TableLimits()


class RecordSourceError(FormdeskError, ValueError):
    """A data file that cannot be read as records; message in Chinese, with its line
    (HTTP 422)."""

    status = 422


def load_records(path: Path, template: Template) -> list[tuple[int, dict[str, Any]]]:
    """(line number, values) for each record in the file; the line helps error messages."""
    if not path.is_file():
        raise RecordSourceError(f"找不到数据文件:{path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise RecordSourceError(
            f"{path.name}:文件 {size / MB:.1f} MB,超过 {MAX_BYTES // MB} MB 上限"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordSourceError(f"无法读取数据文件 {path}({os_reason(exc)})") from None
    return records_from_bytes(data, path.name, template)


def os_reason(exc: OSError) -> str:
    """Why a file could not be read, in Chinese (`strerror` is the C library's English)."""
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹"
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    return f"系统错误 {exc.errno}" if exc.errno else "系统错误"


def records_from_bytes(
    data: bytes, name: str, template: Template
) -> list[tuple[int, dict[str, Any]]]:
    """`load_records` for a file's content, `name` giving its type (.json, .csv, .xlsx)
    and naming it in messages. RecordSourceError over MAX_BYTES or for a bad file."""
    if len(data) > MAX_BYTES:
        raise RecordSourceError(
            f"{name}:文件 {len(data) / MB:.1f} MB,超过 {MAX_BYTES // MB} MB 上限"
        )
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        return _from_json(data, name, template)
    if suffix == ".csv":
        return _rows_to_records(_csv_rows(data, name), template, name)
    if suffix in (".xlsx", ".xlsm"):
        return _rows_to_records(_xlsx_rows(data, name), template, name)
    raise RecordSourceError(f"不支持的数据文件类型 {suffix}:请用 .json、.csv 或 .xlsx")


def checked_rows(
    data: bytes, name: str, template_code: str, max_forms: int, own: OwnStation | None = None
) -> tuple[list[dict], list[str]]:
    """Every row of a print-data file checked, none left out: the normalised records of
    the good rows, and one Chinese line per bad row (``第5行 车架号:…``; JSON:
    ``第5条记录 …``), in file order — what the 打印 page shows before it prints the good
    ones.  A station user's rows (`own`) must not name another station (`OwnStation.check`:
    such a row is a bad row).  RecordSourceError for a file that cannot be read at all,
    too many rows, or no row (module-level and picklable: run in a limited process)."""
    from formdesk.templates import get_template
    from formdesk.templates.values.normalize import (
        FieldValueError,
        normalize_record,
        record_problems,
    )

    template = get_template(template_code)
    rows = records_from_bytes(data, name, template)
    if len(rows) > max_forms:
        raise RecordSourceError(
            f"{name}:一次最多打印 {max_forms} 份(文件中有 {len(rows)} 行),请分批"
        )
    if not rows:
        raise RecordSourceError(f"{name}:文件中没有要打印的数据")
    json = Path(name).suffix.lower() == ".json"
    good, bad = [], []
    for line, values in rows:
        try:
            clean = normalize_record(template, values)
            if own is not None:
                own.check(template, clean)
            good.append(clean)
        except FieldValueError as exc:
            where = f"第{line}条记录" if json else f"第{line}行"
            # every bad field of the row, not only the first (the own-station check
            # comes after the fields, so it is the one problem then)
            every = record_problems(template, values) or [exc]
            bad.append(f"{where} " + ";".join(str(e) for e in every))
    return good, bad


def checked_batch(
    data: bytes, name: str, template_code: str, max_forms: int, own: OwnStation | None = None
) -> list[dict]:
    """The records of a print-data file, each normalised (`normalize_record`) and, for a
    station user (`own`), naming no other station (`OwnStation.check`): the whole parsing
    step of a print batch, run in a limited process by the API (module-level and
    picklable: arguments and result cross a process boundary). RecordSourceError with
    the one Chinese line naming the file, the line and the field."""
    from formdesk.templates import get_template
    from formdesk.templates.values.normalize import FieldValueError, normalize_record

    template = get_template(template_code)
    rows = records_from_bytes(data, name, template)
    if len(rows) > max_forms:
        raise RecordSourceError(
            f"{name}:一次最多打印 {max_forms} 份(文件中有 {len(rows)} 行),请分批"
        )
    clean = []
    for line, values in rows:
        try:
            record = normalize_record(template, values)
            if own is not None:
                own.check(template, record)
            clean.append(record)
        except FieldValueError as exc:
            json = Path(name).suffix.lower() == ".json"
            where = f"第{line}条记录 " if json else f"{name} 第{line}行 "
            raise RecordSourceError(f"{where}{exc}") from None
    if not clean:
        raise RecordSourceError(f"{name}:文件中没有要打印的数据")
    return clean


# json.JSONDecodeError.msg, as the json module words it, in Chinese
_JSON_ERRORS = {
    "Expecting value": "此处应为一个值",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Expecting property name enclosed in double quotes": "栏目名应加双引号",
    "Unterminated string starting at": "字符串缺少结尾的双引号",
    "Invalid control character at": "字符串中有控制字符(换行应写成 \\n)",
    "Invalid \\escape": "无效的转义符(\\)",
    "Invalid \\uXXXX escape": "无效的 \\u 转义",
    "Extra data": "数据结束后还有多余的内容",
}


def json_error(exc: json.JSONDecodeError) -> str:
    """The Chinese reason of a JSON syntax error (the json module's message is English)."""
    return _JSON_ERRORS.get(exc.msg, "格式错误")


def _from_json(data: bytes, name: str, template: Template) -> list[tuple[int, dict[str, Any]]]:
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordSourceError(f"{name}:不是 UTF-8 编码的 JSON 文件") from None
    except json.JSONDecodeError as exc:
        raise RecordSourceError(
            f"{name} 第{exc.lineno}行第{exc.colno}列:JSON 格式错误({json_error(exc)})"
        ) from None
    except (ValueError, RecursionError):  # an integer of thousands of digits, deep nesting
        raise RecordSourceError(f"{name}:JSON 中的数字位数过多或嵌套层数过多") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if len(items) > TABLE_LIMITS.max_rows:
        raise RecordSourceError(f"{name}:超过 {TABLE_LIMITS.max_rows} 条记录,请分批打印")
    known = {f.key for f in template.fields}
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise RecordSourceError(f"{name} 第{n}条记录:应为对象")
        values = item.get("values", item) if "values" in item else item
        if not isinstance(values, dict):
            raise RecordSourceError(f"{name} 第{n}条记录:values 应为对象(栏目名: 值)")
        values = {k: v for k, v in values.items() if k != "template"}
        for key in values:
            if key not in known:  # named here, shortened: a key may be anything
                raise RecordSourceError(
                    f"{name} 第{n}条记录:模板 {template.code} 没有栏目 {shown(key)}"
                )
        out.append((n, values))
    return out


SAVE_AS = "请在 Excel 中另存为 CSV UTF-8 或 .xlsx 后再试"


def _csv_rows(raw: bytes, name: str) -> list[list[str]]:
    """UTF-8, UTF-16 or GBK as Excel saves it (`ingest.tables.decode_text`, the policy the
    claims import follows too)."""
    try:
        kind = table_kind(raw, name)
        text = decode_text(raw) if kind == "text" else ""
    except TableError as exc:
        raise RecordSourceError(f"{name}:{exc};{SAVE_AS}") from None
    if kind == "xlsx":
        raise RecordSourceError(f"{name}:这是 Excel 工作簿,不是 CSV;请把扩展名改为 .xlsx")
    try:
        return [row for _, row in csv_rows(text, TABLE_LIMITS)]
    except TableError as exc:
        raise RecordSourceError(f"{name}:{exc}") from None


def _xlsx_rows(raw: bytes, name: str) -> list[list[str]]:
    """Cells as text; formulas whose results were never saved refused by column."""
    try:
        rows = [row for _, row in xlsx_rows(raw, TABLE_LIMITS)]
    except TableError as exc:  # the wording this module always used for a broken file
        reason = str(exc).replace("无法作为 Excel 工作簿打开", "无法作为 Excel 文件打开", 1)
        raise RecordSourceError(f"{name}:{reason}") from None
    header = rows[0] if rows else []
    for col, title in enumerate(header):
        if title is None or not str(title).strip():
            continue  # an unnamed column: refused in _rows_to_records if it holds anything
        unsaved = [r[col] for r in rows[1:] if col < len(r) and isinstance(r[col], UnsavedFormula)]
        if unsaved:
            reason = unsaved_formulas_reason(unsaved, shown(str(title).strip()))
            raise RecordSourceError(f"{name}:{reason}")
    for line, row in enumerate(rows[1:], start=2):
        for col, v in enumerate(row):
            if is_inexact_number(v):
                cell = f"{get_column_letter(col + 1)}{line}"
                raise RecordSourceError(f"{name} 第{line}行 单元格 {cell}:{inexact_reason(v)}")
    return [
        ["" if v is None or isinstance(v, UnsavedFormula) else _cell_text(v) for v in row]
        for row in rows
    ]


def _cell_text(v: Any) -> str:
    if hasattr(v, "strftime"):
        return (
            v.strftime("%Y-%m-%d %H:%M")
            if getattr(v, "hour", 0) or getattr(v, "minute", 0)
            else v.strftime("%Y-%m-%d")
        )
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _header(titles: list[str], template: Template, name: str) -> list[FormField | None]:
    """The field of each column (None: no title); RecordSourceError for a title the
    template does not have, or two columns for one field (one would be lost)."""
    by_name = {f.key: f for f in template.fields} | {f.label: f for f in template.fields}
    header: list[FormField | None] = []
    first: dict[str, int] = {}
    for col, title in enumerate(titles, start=1):
        title = title.strip()
        f = by_name.get(title) if title else None
        if title and f is None:
            raise RecordSourceError(
                f"{name} 第1行第{col}列:模板 {template.code} 没有栏目 {shown(title)}"
            )
        if f is not None and f.key in first:
            raise RecordSourceError(
                f"{name} 第1行:第{first[f.key]}列与第{col}列都是 {f.label}({f.key}),请删去其中一列"
            )
        if f is not None:
            first[f.key] = col
        header.append(f)
    return header


def _rows_to_records(
    rows: list[list[str]], template: Template, name: str
) -> list[tuple[int, dict[str, Any]]]:
    if not rows or not any(c.strip() for c in rows[0]):
        raise RecordSourceError(f"{name}:文件为空或缺少表头行")
    header = _header(rows[0], template, name)
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        values: dict[str, Any] = {}
        for col, cell in enumerate(row):
            if not cell.strip():
                continue
            f = header[col] if col < len(header) else None
            if f is None:
                raise RecordSourceError(
                    f"{name} 第{line}行第{col + 1}列(单元格 {get_column_letter(col + 1)}{line}):"
                    "这一列没有表头,其中的内容不会被打印;请在第1行填写栏目名,或删除这一列"
                )
            if f.type == FieldType.table:
                try:
                    values[f.key] = json.loads(cell)
                except (ValueError, RecursionError):  # syntax, huge numbers, deep nesting
                    raise RecordSourceError(
                        f'{name} 第{line}行 {f.label}({f.key}):表格栏应为 JSON 列表,如 [{{"part_no": "..."}}]'
                    ) from None
            else:
                values[f.key] = cell
        out.append((line, values))
    if not out:
        raise RecordSourceError(f"{name}:只有表头,没有数据行")
    return out
