"""Records: list and filter, detail with the aligned page and field crops, corrections
(kept as an audit trail) and verification; the work is done by services/records.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from formdesk.model.stored import RecordSummary
from formdesk.services import record_actions, review_bulk
from formdesk.services import records as service
from formdesk.services.records import CorrectionResult, PageImages, RecordDetail, RecordQuery
from formdesk.services.review_bulk import BulkCandidates
from formdesk.services.stores import Store

from ..deps import current_principal, get_store, writer
from ..filenames import content_disposition
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["records"])
PNG_HEADERS = {"Cache-Control": "private, max-age=3600"}


class RecordList(BaseModel):
    total: int
    items: list[RecordSummary]


RecordFilters = Annotated[RecordQuery, Query()]


@router.get("/records", response_model=RecordList)
def list_records(
    query: RecordFilters,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> RecordList:
    """按模板、维修站、状态、日期、文字筛选;order=least_confident 为复核队列顺序。
    重复扫描(同一文档同一联的再次扫描)不计入,duplicates=true 时一并列出。每条带 reasons(复核原因)。"""
    items, total = service.find_records(store, who, query)
    return RecordList(total=total, items=items)


@router.get("/records/{record_id}", response_model=RecordDetail)
def record_detail(
    record_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> RecordDetail:
    return service.record_detail(store, who, record_id)


def _page_images(request: Request) -> PageImages:
    """The app's signing key, OCR engine and aligned-page cache (shared by requests)."""
    state = request.app.state
    return PageImages(state.key, state.engine, state.page_cache)


def _png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers=PNG_HEADERS)


@router.get("/records/{record_id}/page.png", response_class=Response)
def page_image(
    request: Request,
    record_id: str,
    page: int = Query(1, ge=1),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    """对齐后的表单页面图像(200 dpi)。"""
    return _png(service.page_png(store, who, record_id, page, _page_images(request)))


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
    images = _page_images(request)
    return _png(service.crop_png(store, who, record_id, key, images, row=row, column=column))


class Fix(BaseModel):
    value: Any
    row: int | None = None
    column: str | None = None


@router.patch("/records/{record_id}/fields/{key}", response_model=CorrectionResult)
def correct(
    record_id: str,
    key: str,
    fix: Fix,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> CorrectionResult:
    """更正一栏的值(按栏目类型校验);每次更正都记入审计记录,不会被改写。"""
    return service.correct_field(
        store, who, record_id, key, fix.value, row=fix.row, column=fix.column
    )


@router.post("/records/{record_id}/verify", response_model=RecordSummary)
def verify(
    record_id: str, who: Principal = Depends(writer), store: Store = Depends(get_store)
) -> RecordSummary:
    """确认记录无误(复核完成)。"""
    return service.verify_record(store, who, record_id)


class VoidRequest(BaseModel):
    reason: str  # 作废原因 (1–200 characters)


class StationRequest(BaseModel):
    station: str | None  # a registered station code, or null: the back office's own (required)


@router.post("/records/{record_id}/void", response_model=RecordSummary)
def void_record(
    record_id: str,
    body: VoidRequest,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> RecordSummary:
    """作废一条记录(保留原样并记入审计;不再计入任何列表、统计、导出与核对)。"""
    return record_actions.void_record(store, who, record_id, body.reason)


@router.post("/records/{record_id}/restore", response_model=RecordSummary)
def restore_record(
    record_id: str, who: Principal = Depends(writer), store: Store = Depends(get_store)
) -> RecordSummary:
    """恢复一条已作废的记录。"""
    return record_actions.restore_record(store, who, record_id)


@router.post("/records/{record_id}/unverify", response_model=RecordSummary)
def unverify_record(
    record_id: str, who: Principal = Depends(writer), store: Store = Depends(get_store)
) -> RecordSummary:
    """撤销“确认无误”。"""
    return record_actions.unverify_record(store, who, record_id)


@router.put("/records/{record_id}/station", response_model=RecordSummary)
def set_record_station(
    record_id: str,
    body: StationRequest,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> RecordSummary:
    """设置或更正记录所属的维修站(仅后台;记入审计)。"""
    return record_actions.set_station(store, who, record_id, body.station)


@router.get("/review/bulk", response_model=BulkCandidates)
def bulk_candidates(
    station: str | None = None,
    template: str | None = None,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> BulkCandidates:
    """复核队列中各栏均正常的记录,按复核原因计数(供批量确认选择)。"""
    return review_bulk.bulk_candidates(store, who, station, template)


class BulkVerify(BaseModel):
    accept: list[str]  # the reasons the clerk accepts (e.g. 签名不符)
    expected: int  # how many records the clerk was shown
    station: str | None = None
    template: str | None = None


class BulkVerified(BaseModel):
    verified: int
    record_ids: list[str]


@router.post("/review/bulk", response_model=BulkVerified)
def bulk_verify(
    body: BulkVerify, who: Principal = Depends(writer), store: Store = Depends(get_store)
) -> BulkVerified:
    """批量确认:各栏均正常、且复核原因都在 accept 之中的记录;数量与 expected 不符时不确认(409)。"""
    ids = review_bulk.bulk_verify(
        store, who, body.accept, body.expected, station=body.station, template=body.template
    )
    return BulkVerified(verified=len(ids), record_ids=ids)


@router.get("/scans/{sha256}", response_class=Response)
def original_scan(
    sha256: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Response:
    """原始上传文件,逐字节原样返回(作为附件下载;类型按文件内容判断,而非上传时声明的类型)。"""
    scan = service.original_scan(store, who, sha256)
    return Response(
        scan.data,
        media_type=scan.media_type,
        headers={"Content-Disposition": content_disposition(scan.filename)},
    )
