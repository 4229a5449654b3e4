"""Reading prefill records from JSON, CSV (UTF-8) and XLSX files.

Columns are field keys or their Chinese labels; a table field's cell holds a JSON list of
rows.  Every problem names its line and column, because users fix these files by hand.
Files are bounded like the claims files: size first, then rows, columns, cells, CSV line
length and XLSX parts through `formdesk.ingest.tables`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from formdesk.ingest.tables import (
    TableError,
    TableLimits,
    UnsavedFormula,
    csv_rows,
    unsaved_formulas_reason,
    xlsx_rows,
)
from formdesk.templates.schema import FieldType, Template

MB = 1024 * 1024
MAX_BYTES = 20 * MB  # a 1,500-row print batch is well under 1 MB
TABLE_LIMITS = TableLimits()


class RecordSourceError(ValueError):
    """A data file that cannot be read as records; message in Chinese, with its line."""


def load_records(path: Path, template: Template) -> list[tuple[int, dict[str, Any]]]:
    """(line number, values) for each record in the file; the line helps error messages."""
    if not path.is_file():
        raise RecordSourceError(f"找不到数据文件:{path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise RecordSourceError(
            f"{path.name}:文件 {size / MB:.1f} MB,超过 {MAX_BYTES // MB} MB 上限"
        )
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _from_json(path)
    if suffix == ".csv":
        return _rows_to_records(_csv_rows(path), template, path.name)
    if suffix in (".xlsx", ".xlsm"):
        return _rows_to_records(_xlsx_rows(path), template, path.name)
    raise RecordSourceError(f"不支持的数据文件类型 {suffix}:请用 .json、.csv(UTF-8)或 .xlsx")


def _from_json(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise RecordSourceError(f"{path.name}:不是 UTF-8 编码的 JSON 文件") from None
    except json.JSONDecodeError as exc:
        raise RecordSourceError(f"{path.name} 第{exc.lineno}行:JSON 格式错误({exc.msg})") from None
    except (ValueError, RecursionError):  # an integer of thousands of digits, deep nesting
        raise RecordSourceError(f"{path.name}:JSON 中的数字位数过多或嵌套层数过多") from None
    items = data if isinstance(data, list) else [data]
    if len(items) > TABLE_LIMITS.max_rows:
        raise RecordSourceError(f"{path.name}:超过 {TABLE_LIMITS.max_rows} 条记录,请分批打印")
    out = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise RecordSourceError(f"{path.name} 第{n}条记录:应为对象")
        values = item.get("values", item) if "values" in item else item
        values = {k: v for k, v in values.items() if k != "template"}
        out.append((n, values))
    return out


def _csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RecordSourceError(
            f"{path.name} 第{line}行:不是 UTF-8 编码(可能是 GBK/Excel 默认编码),"
            "请在 Excel 中“另存为 CSV UTF-8”后再试"
        ) from None
    try:
        return [row for _, row in csv_rows(text, TABLE_LIMITS)]
    except TableError as exc:
        raise RecordSourceError(f"{path.name}:{exc}") from None


def _xlsx_rows(path: Path) -> list[list[str]]:
    """Cells as text; formulas whose results were never saved refused by column."""
    try:
        rows = [row for _, row in xlsx_rows(path.read_bytes(), TABLE_LIMITS)]
    except TableError as exc:  # the wording this module always used for a broken file
        reason = str(exc).replace("无法作为 Excel 工作簿打开", "无法作为 Excel 文件打开", 1)
        raise RecordSourceError(f"{path.name}:{reason}") from None
    header = rows[0] if rows else []
    for col, title in enumerate(header):
        if title is None or not str(title).strip():
            continue  # an unnamed column is not read
        unsaved = [r[col] for r in rows[1:] if col < len(r) and isinstance(r[col], UnsavedFormula)]
        if unsaved:
            reason = unsaved_formulas_reason(unsaved, f"“{str(title).strip()}”")
            raise RecordSourceError(f"{path.name}:{reason}")
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


def _rows_to_records(
    rows: list[list[str]], template: Template, name: str
) -> list[tuple[int, dict[str, Any]]]:
    if not rows or not any(c.strip() for c in rows[0]):
        raise RecordSourceError(f"{name}:文件为空或缺少表头行")
    by_name = {f.key: f for f in template.fields} | {f.label: f for f in template.fields}
    header = []
    for col, title in enumerate(rows[0], start=1):
        title = title.strip()
        if not title:
            header.append(None)
            continue
        f = by_name.get(title)
        if f is None:
            raise RecordSourceError(f"{name} 第1行第{col}列:模板 {template.code} 没有栏目“{title}”")
        header.append(f)
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        values: dict[str, Any] = {}
        for f, cell in zip(header, row, strict=False):
            if f is None or not cell.strip():
                continue
            if f.type == FieldType.table:
                try:
                    values[f.key] = json.loads(cell)
                except json.JSONDecodeError:
                    raise RecordSourceError(
                        f'{name} 第{line}行 {f.label}({f.key}):表格栏应为 JSON 列表,如 [{{"part_no": "..."}}]'
                    ) from None
            else:
                values[f.key] = cell
        out.append((line, values))
    if not out:
        raise RecordSourceError(f"{name}:只有表头,没有数据行")
    return out
