"""Uploading scans in batches; the background worker reads them, progress is polled
(services/batches.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from formdesk.model.scans import Batch
from formdesk.services import batches as service
from formdesk.services.stations import acting_station
from formdesk.services.stores import Store

from ..deps import current_principal, get_store, writer
from ..filenames import neutral_filename
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["uploads"])


class Refused(BaseModel):
    filename: str
    reason: str


class Accepted(BaseModel):
    filename: str
    sha256: str
    pages: int
    new: bool  # False when this station (or the back office) uploaded the same bytes before


class UploadOut(BaseModel):
    batch_id: str | None
    accepted: list[Accepted]
    refused: list[Refused]


@router.post(
    "/uploads",
    status_code=202,
    response_model=UploadOut,
    responses={
        415: {"description": "不是 multipart/form-data"},
        422: {"description": "没有可识读的文件"},
    },
)
async def upload(
    request: Request,
    files: list[UploadFile],
    station: str | None = Form(None),
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """上传一批扫描件(PDF、JPEG、PNG、TIFF);立即返回批次号,后台逐页识读。"""
    # 422 for an unknown station, 403 for a station user naming another one
    station = await run_in_threadpool(acting_station, store, who, station)
    state = request.app.state
    taken: list[service.StoredUpload] = []
    refused: list[Refused] = []
    for f in files:
        name = neutral_filename(f.filename)  # no bidi or control characters, stored and shown
        outcome = await service.take_upload(
            store,
            state.inspect_pool,
            state.ingest_limits,
            await f.read(),
            name,
            f.content_type,
            uploaded_by=who.username,
            station=station,
        )
        if isinstance(outcome, service.RefusedUpload):
            refused.append(Refused(filename=outcome.filename, reason=outcome.reason))
        else:
            taken.append(outcome)
    if not taken:
        reason = (
            "没有可识读的文件:" + ";".join(f"{r.filename}:{r.reason}" for r in refused)
            if refused
            else "没有收到文件"
        )
        return JSONResponse(
            {"reason": reason, "refused": [r.model_dump() for r in refused]}, status_code=422
        )
    batch = await service.start_batch(store, who.username, station, taken)
    state.worker_wake()
    accepted = [Accepted.model_validate(t, from_attributes=True) for t in taken]
    return JSONResponse(
        UploadOut(batch_id=batch.batch_id, accepted=accepted, refused=refused).model_dump(),
        status_code=202,
    )


@router.get("/batches/{batch_id}", response_model=Batch)
def batch_status(
    batch_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Batch:
    """批次进度:pages_done / pages_total,state 为 queued、reading 或 done。"""
    return service.visible_batch(store, who, batch_id)


@router.get("/batches", response_model=list[Batch])
def batches(
    who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> list[Batch]:
    return service.list_batches(store, who)
