"""Records: list and filter, detail with the aligned page and field crops, corrections
(kept as an audit trail) and verification."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import cv2
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from formdesk.extract.views import aligned_form, crop_mm
from formdesk.ingest import IngestError, sniff
from formdesk.model.record import needs_check
from formdesk.model.stored import Correction, RecordSummary, StoredRecord
from formdesk.store import Store
from formdesk.store.summary import record_reasons
from formdesk.templates import get_template
from formdesk.templates.values.normalize import correction_value

from ..deps import current_principal, get_store, not_found, writer
from ..filenames import content_disposition
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["records"])


class RecordList(BaseModel):
    total: int
    items: list[RecordSummary]


class RecordQuery(BaseModel):
    """The record filters, read from the query string (also used by the exports)."""

    template: str | None = None
    station: str | None = None
    status: Literal["ready", "needs_review", "verified"] | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    order: Literal["newest", "least_confident"] = "newest"
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=500)
    duplicates: bool = False  # also list second scans of a stored document (重复扫描)


RecordFilters = Annotated[RecordQuery, Query()]


def find_records(
    store: Store, who: Principal, query: RecordQuery
) -> tuple[list[RecordSummary], int]:
    station = who.station_filter or query.station
    return store.list_records(
        template=query.template,
        station=station,
        status=query.status,
        date_from=query.date_from,
        date_to=query.date_to,
        text=query.q,
        order=query.order,
        offset=query.offset,
        limit=query.limit,
        duplicates=query.duplicates,
    )


@router.get("/records", response_model=RecordList)
def list_records(
    query: RecordFilters,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> RecordList:
    """按模板、维修站、状态、日期、文字筛选;order=least_confident 为复核队列顺序。
    重复扫描(同一文档同一联的再次扫描)不计入,duplicates=true 时一并列出。每条带 reasons(复核原因)。"""
    items, total = find_records(store, who, query)
    return RecordList(total=total, items=items)


def visible_record(store: Store, who: Principal, record_id: str) -> StoredRecord:
    """The record if `who` may see it (404 otherwise); it may be marked damaged."""
    stored = store.get_record(record_id)
    if stored is None or not who.sees(stored.summary.station):
        raise not_found("这条记录")
    return stored


def usable_record(store: Store, who: Principal, record_id: str) -> StoredRecord:
    """As `visible_record`, and 409 with the reason when its file is damaged."""
    stored = visible_record(store, who, record_id)
    if stored.damaged:
        raise HTTPException(409, f"这条记录的识读结果无法读取({stored.damaged}),不能这样操作")
    return stored


def _marked(reading: dict[str, Any]) -> dict[str, Any]:
    """A reading dict (and its table cells) with `needs_check` as the model decides it."""
    out = {**reading, "needs_check": needs_check(reading.get("status"), reading.get("reason"))}
    if reading.get("rows") is not None:
        out["rows"] = [{k: _marked(c) for k, c in row.items()} for row in reading["rows"]]
    return out


def with_review_rules(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of the stored record dict with every reading's `needs_check` as the model
    decides it (`formdesk.model.record.needs_check`), so the review page applies no rule
    of its own; {} (a damaged record) stays {}."""
    if not record:
        return record
    return {**record, "fields": [_marked(f) for f in record.get("fields", [])]}


class RecordDetail(BaseModel):
    summary: RecordSummary
    record: dict[str, Any]  # {} when damaged
    corrections: list[Correction]
    page: dict[str, float]  # form size in mm, for drawing field boxes over the page image
    damaged: str | None = None  # why the record's file cannot be read (Chinese)
    reasons: list[str] = Field(default_factory=list)  # store.summary.record_reasons
    # ids of the later scans linked to this record (重复扫描)
    duplicates: list[str] = Field(default_factory=list)


def rescans_of(store: Store, who: Principal, summary: RecordSummary) -> list[str]:
    """The records linked to `summary` as its second scans (oldest first), those `who` sees."""
    rows, _ = store.list_records(text=summary.document_id, limit=500, duplicates=True)
    return [
        r.record_id
        for r in sorted(rows, key=lambda r: r.created_at)
        if r.duplicate_of == summary.record_id and who.sees(r.station)
    ]


@router.get("/records/{record_id}", response_model=RecordDetail)
def record_detail(
    record_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> RecordDetail:
    stored = visible_record(store, who, record_id)
    g = get_template(stored.summary.template).geometry
    return RecordDetail(
        summary=stored.summary,
        record=with_review_rules(stored.record),
        corrections=store.list_corrections(record_id),
        page={"width": g.width, "height": g.height},
        damaged=stored.damaged,
        reasons=record_reasons(stored.record) if not stored.damaged else [],
        duplicates=rescans_of(store, who, stored.summary),
    )


def _aligned(request: Request, stored: StoredRecord, form_page: int) -> Any:
    summary = stored.summary
    pages = stored.record.get("pages", [])
    source = next((p for p in pages if p.get("form_page", 1) == form_page), None)
    if source is None:
        raise not_found("这一页")
    cache = request.app.state.page_cache
    key = (summary.scan_id, source["file_page"], summary.document_id)
    if key not in cache:
        store: Store = request.app.state.store
        scan = store.get_scan(summary.scan_id)
        image = aligned_form(
            store.scan_bytes(summary.scan_id),
            scan.filename,
            source["file_page"],
            summary.document_id,
            request.app.state.key,
            request.app.state.engine,
        )
        if image is None:
            raise HTTPException(409, "扫描件中找不到这份表单了")
        if len(cache) > 16:
            cache.pop(next(iter(cache)))
        cache[key] = image
    return cache[key]


def _png(image: Any) -> Response:
    ok, buf = cv2.imencode(".png", image)
    return Response(
        buf.tobytes(), media_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/records/{record_id}/page.png", response_class=Response)
def page_image(
    request: Request,
    record_id: str,
    page: int = Query(1, ge=1),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    """对齐后的表单页面图像(200 dpi)。"""
    stored = usable_record(store, who, record_id)
    return _png(_aligned(request, stored, page))


@router.get("/records/{record_id}/crop.png", response_class=Response)
def field_crop(
    request: Request,
    record_id: str,
    key: str,
    row: int | None = Query(None, ge=1),
    column: str | None = None,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    """某一栏、表格某行某列,或(只给 row)表格整行在对齐页面上的截图。"""
    stored = usable_record(store, who, record_id)
    field = next((f for f in stored.record["fields"] if f["key"] == key), None)
    if field is None:
        raise not_found("这一栏")
    box, page = field["box"], field.get("page", 1)
    if row is not None or column is not None:
        rows = field.get("rows") or []
        if row is None or row > len(rows):
            raise not_found("这一行")
        if column is None:
            box, page = row_box(rows[row - 1])
        elif column not in rows[row - 1]:
            raise not_found("这个单元格")
        else:
            cell = rows[row - 1][column]
            box, page = cell["box"], cell.get("page", 1)
    return _png(crop_mm(_aligned(request, stored, page), box))


def row_box(cells: dict[str, Any]) -> tuple[list[float], int]:
    """The box around a table row's cells (those on its first cell's page) and that page:
    a manifest line is evidence as a whole, claim number to remarks."""
    boxed = [c for c in cells.values() if c.get("box")]
    if not boxed:
        raise not_found("这一行")
    page = boxed[0].get("page", 1)
    boxes = [c["box"] for c in boxed if c.get("page", 1) == page]
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return [x0, y0, x1 - x0, y1 - y0], page


class Fix(BaseModel):
    value: Any
    row: int | None = None
    column: str | None = None


class CorrectionResult(Correction):
    """A correction as stored, and the reading as it now is (with `needs_check`)."""

    reading: dict[str, Any] = Field(default_factory=dict)


def _reading_after(store: Store, record_id: str, key: str, fix: Fix) -> dict[str, Any]:
    """The corrected reading as stored, marked (`_marked`); {} if it cannot be found (the
    correction is saved either way, so this never fails the answer)."""
    stored = store.get_record(record_id)
    field = next((f for f in (stored.record if stored else {}).get("fields", [])
                  if f.get("key") == key), None)  # fmt: skip
    if field is None:
        return {}
    if fix.row is not None and fix.column is not None and field.get("rows") is not None:
        rows = field["rows"]
        cell = rows[fix.row - 1].get(fix.column) if 1 <= fix.row <= len(rows) else None
        return _marked(cell) if cell is not None else {}
    return _marked(field)


@router.patch("/records/{record_id}/fields/{key}", response_model=CorrectionResult)
def correct(
    record_id: str,
    key: str,
    fix: Fix,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> CorrectionResult:
    """更正一栏的值(按栏目类型校验);每次更正都记入审计记录,不会被改写。"""
    stored = usable_record(store, who, record_id)
    template = get_template(stored.summary.template)
    try:
        spec = template.field(key)
    except KeyError:
        raise not_found("这一栏") from None
    if fix.column is not None:
        spec = next((c for c in spec.columns if c.key == fix.column), None)
        if spec is None:
            raise not_found("这一列")
    value = fix.value
    if value is not None and value != "":  # empty clears the field
        try:  # 签字/盖章: a presence flag only (correction_value)
            value = correction_value(spec, value)
        except ValueError as exc:
            raise HTTPException(422, f"{spec.label}:{exc}") from None
    try:
        done = store.correct_field(
            record_id, key, value, who.username, row=fix.row, column=fix.column
        )
    except ValueError as exc:  # a table row or column the record does not have
        raise HTTPException(422, str(exc)) from None
    return CorrectionResult(**done.model_dump(), reading=_reading_after(store, record_id, key, fix))


@router.post("/records/{record_id}/verify", response_model=RecordSummary)
def verify(
    record_id: str, who: Principal = Depends(writer), store: Store = Depends(get_store)
) -> RecordSummary:
    """确认记录无误(复核完成)。"""
    usable_record(store, who, record_id)
    return store.verify_record(record_id, who.username)


SNIFFED_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "tiff": "image/tiff",
}


def sniffed_media_type(data: bytes) -> str:
    """The media type of a stored scan found from its bytes (ingest.sniff: PDF, JPEG,
    PNG, TIFF), never from what the uploader declared; else application/octet-stream."""
    try:
        return SNIFFED_TYPES[sniff(data)]
    except (IngestError, KeyError):
        return "application/octet-stream"


@router.get("/scans/{sha256}", response_class=Response)
def original_scan(
    sha256: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    """原始上传文件,逐字节原样返回(作为附件下载;类型按文件内容判断,而非上传时声明的类型)。"""
    scan = store.get_scan(sha256)
    if scan is None or not any(who.sees(s) for s in scan.stations()):
        raise not_found("这个扫描件")
    mine = scan.owner(who.station_filter) if who.role == "station" else None
    data = store.scan_bytes(sha256)
    return Response(
        data,
        media_type=sniffed_media_type(data),
        headers={
            "Content-Disposition": content_disposition(mine.filename if mine else scan.filename)
        },
    )
