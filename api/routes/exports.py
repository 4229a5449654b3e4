"""Exporting records as CSV, XLSX and JSON (the same filters as the list)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from formdesk.render.cells import append_row, csv_row
from formdesk.store import Store

from ..deps import current_principal, get_store
from ..filenames import content_disposition
from ..principal import Principal
from .records import RecordFilters, RecordQuery, find_records

router = APIRouter(prefix="/api", tags=["exports"])
MAX_EXPORT = 10_000
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


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _rows(
    store: Store, who: Principal, query: RecordQuery
) -> tuple[list[str], list[list[Any]], list[dict]]:
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
    return META + keys, rows, docs


@router.get("/export.{fmt}", response_class=Response)
def export(
    fmt: Literal["csv", "xlsx", "json"],
    query: RecordFilters,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    """导出筛选出的记录(最多 10000 条):csv(UTF-8 带 BOM,Excel 可直接打开)、xlsx、json。

    以 = + - @ 制表符或回车开头的文字按文本写出,不会被表格软件当作公式(见 render/cells.py)。"""
    header, rows, docs = _rows(store, who, query)
    disposition = {"Content-Disposition": content_disposition(f"formdesk-records.{fmt}")}
    if fmt == "json":
        return Response(
            json.dumps(docs, ensure_ascii=False, indent=1),
            media_type="application/json",
            headers=disposition,
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(csv_row(header))
        writer.writerows(csv_row(row) for row in rows)
        return Response(
            ("\ufeff" + buf.getvalue()).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers=disposition,
        )
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("records")
    append_row(ws, header)
    for row in rows:
        append_row(ws, row)
    out = io.BytesIO()
    wb.save(out)
    return Response(
        out.getvalue(),
        headers=disposition,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
