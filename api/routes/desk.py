"""The back-office desk's exceptions (issue 12, points 2 and 3): an upload's page (files,
records, refused pages), page thumbnails, voiding an upload's records, and settling the
pages the reader refused (choose the form and read again, or discard); the work is done
by services/batch_view.py, services/record_actions.py and services/refused_pages.py."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from formdesk.model.scans import Batch, PageRefusal
from formdesk.model.stored import RecordSummary
from formdesk.services import batch_view, desk, record_actions, refused_pages
from formdesk.services.batch_view import BatchView
from formdesk.services.desk import Desk
from formdesk.services.stores import Store

from ..deps import current_principal, get_store, writer
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["desk"])


@router.get("/desk", response_model=Desk)
def work_desk(
    request: Request, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Desk:
    """工作台:待复核(按维修站和表单)、未能识读的页面、识读失败的文件、本月未收到返厂清单的维修站、索赔件未返回。"""
    return desk.desk(store, who, request.app.state.settings.data_dir)


@router.get("/batches/{batch_id}/view", response_model=BatchView)
def view_batch(
    batch_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> BatchView:
    """批次详情:每个文件的页数、识读状态、由哪一页读出哪条记录,以及未能识读的页面和原因。"""
    return batch_view.batch_view(store, who, batch_id)


class Reason(BaseModel):
    reason: str  # 原因 (1–200 characters)


class Voided(BaseModel):
    voided: int
    records: list[RecordSummary]


@router.post("/batches/{batch_id}/void", response_model=Voided)
def void_batch(
    batch_id: str,
    body: Reason,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Voided:
    """作废整个批次读出的记录(保留并记入审计,不再计入任何统计)。"""
    done = record_actions.void_batch(store, who, batch_id, body.reason)
    return Voided(voided=len(done), records=done)


@router.get("/scans/{sha256}/pages/{page}/thumb.png", response_class=Response)
async def page_thumbnail(
    request: Request,
    sha256: str,
    page: int,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    """上传文件某一页(从 0 起)的缩略图(宽 480 像素)。"""
    state = request.app.state
    png = await batch_view.scan_page_thumbnail(
        store, who, state.inspect_pool, state.ingest_limits, sha256, max(0, page)
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/refusals", response_model=list[PageRefusal])
def list_refusals(
    state: list[str] | None = Query(None),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> list[PageRefusal]:
    """未能识读的页面(state=open 待处理、requeued 重新识读中、resolved 已识读、discarded 已放弃)。"""
    return refused_pages.visible_refusals(store, who, state)


class Classify(BaseModel):
    template: str  # the form code, e.g. SH-ZH/BD-27
    form_page: int = 1


class Requeued(BaseModel):
    refusal: PageRefusal
    batch: Batch


@router.post("/refusals/{refusal_id}/classify", response_model=Requeued)
def classify_refusal(
    request: Request,
    refusal_id: str,
    body: Classify,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Requeued:
    """人工指定这一页是哪种表单(第几页),并重新识读。"""
    refusal, batch = refused_pages.classify(store, who, refusal_id, body.template, body.form_page)
    request.app.state.worker_wake()
    return Requeued(refusal=refusal, batch=batch)


@router.post("/refusals/{refusal_id}/discard", response_model=PageRefusal)
def discard_refusal(
    refusal_id: str,
    body: Reason,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> PageRefusal:
    """放弃这一页(需说明原因,记入审计)。"""
    return refused_pages.discard(store, who, refusal_id, body.reason)
