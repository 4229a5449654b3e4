"""Exporting records as CSV, XLSX and JSON, with the same filters as the list (issue 11).

Text that a spreadsheet would take for a formula (starting with = + - @, a tab or a
carriage return) is written as text (render/cells.py).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Literal

from formdesk.render.cells import append_row, csv_row
from formdesk.store import Store

from .records import RecordQuery, find_records
from .viewers import Viewer

ExportFormat = Literal["csv", "xlsx", "json"]
MAX_EXPORT = 10_000  # records in one export
META = [
    "record_id",
    "template",
    "document_id",
    "station",
    "status",
    "min_confidence",
    "created_at",
    "duplicate_of",  # empty unless listed with duplicates=true: a second scan (重复扫描)
]
DAMAGED = "damaged"  # the status of a record whose file cannot be read: summary only
MEDIA_TYPES: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportTable:
    """The exported records: `header` (META, then every field key in the order first
    met), one row per record (field values; a list or dict as JSON text), and per record
    the JSON export's {"summary", "values"[, "damaged"]}; a damaged record has status
    "damaged" and no values."""

    header: list[str]
    rows: list[list[Any]]
    docs: list[dict[str, Any]]


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def export_table(store: Store, who: Viewer, query: RecordQuery) -> ExportTable:
    """The records matching `query` that `who` sees, at most MAX_EXPORT of them from the
    first (`query`'s offset and limit ignored); a record gone since it was listed is left
    out.  The store's errors propagate."""
    q = query.model_copy(update={"offset": 0, "limit": MAX_EXPORT})
    items, _ = find_records(store, who, q)
    full = [store.get_record(s.record_id) for s in items]
    full = [stored for stored in full if stored is not None]  # gone since it was listed
    keys: list[str] = []
    for stored in full:
        for f in stored.record.get("fields", []):
            if f["key"] not in keys:
                keys.append(f["key"])
    rows, docs = [], []
    for stored in full:
        values = {f["key"]: f.get("value") for f in stored.record.get("fields", [])}
        meta = stored.summary.model_dump(mode="json")
        doc: dict[str, Any] = {"summary": meta, "values": values}
        if stored.damaged:
            meta["status"] = DAMAGED
            doc["damaged"] = stored.damaged
        rows.append([meta[k] for k in META] + [_cell(values.get(k)) for k in keys])
        docs.append(doc)
    return ExportTable(META + keys, rows, docs)


def export_records(
    store: Store, who: Viewer, query: RecordQuery, fmt: ExportFormat
) -> tuple[bytes, str]:
    """The file exporting `export_table(store, who, query)` and its media type: "json"
    (a list of {"summary", "values"[, "damaged"]}, UTF-8, indented), "csv" (UTF-8 with a
    BOM, so Excel opens it as such) or "xlsx" (one sheet "records").  Formula-like text
    is written as text in CSV and XLSX."""
    table = export_table(store, who, query)
    if fmt == "json":
        body = json.dumps(table.docs, ensure_ascii=False, indent=1).encode("utf-8")
        return body, MEDIA_TYPES[fmt]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(csv_row(table.header))
        writer.writerows(csv_row(row) for row in table.rows)
        return ("\ufeff" + buf.getvalue()).encode("utf-8"), MEDIA_TYPES[fmt]
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("records")
    append_row(ws, table.header)
    for row in table.rows:
        append_row(ws, row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), MEDIA_TYPES["xlsx"]
