"""Uploading scans in batches; the background worker reads them, progress is polled."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from formdesk.ingest import IngestError, IngestLimits, count_pages, precheck
from formdesk.model.scans import Batch
from formdesk.services.pools import LimitedPool, TaskFailed
from formdesk.store import Store

from ..deps import current_principal, get_store, not_found, writer
from ..filenames import neutral_filename
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["uploads"])
INSPECT_SECONDS = 30.0  # counting the pages of one file


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
    if who.role == "station":
        station = who.station
    elif station and await run_in_threadpool(store.get_station, station) is None:
        raise HTTPException(422, f"没有维修站 {station}")
    accepted: list[Accepted] = []
    refused: list[Refused] = []
    limits = request.app.state.ingest_limits
    pool: LimitedPool = request.app.state.inspect_pool
    pages_of: dict[str, int] = {}
    for f in files:
        name = neutral_filename(f.filename)  # no bidi or control characters, stored and shown
        data = await f.read()
        try:
            pages = await _count(pool, data, name, limits)
        except IngestError as exc:
            refused.append(Refused(filename=name, reason=str(exc)))
            continue
        except TaskFailed as exc:
            refused.append(Refused(filename=name, reason=f"文件过于复杂,无法检查:{exc.reason}"))
            continue
        scan, new = await run_in_threadpool(
            store.put_scan,
            data,
            name,
            f.content_type or "application/octet-stream",
            who.username,
            station,
        )
        pages_of[scan.sha256] = pages
        accepted.append(Accepted(filename=name, sha256=scan.sha256, pages=pages, new=new))
    if not accepted:
        reason = (
            "没有可识读的文件:" + ";".join(f"{r.filename}:{r.reason}" for r in refused)
            if refused
            else "没有收到文件"
        )
        return JSONResponse(
            {"reason": reason, "refused": [r.model_dump() for r in refused]}, status_code=422
        )
    batch = await run_in_threadpool(
        partial(store.create_batch, pages=pages_of),
        who.username,
        station,
        [a.sha256 for a in accepted],
    )
    request.app.state.worker_wake()
    return JSONResponse(
        UploadOut(batch_id=batch.batch_id, accepted=accepted, refused=refused).model_dump(),
        status_code=202,
    )


async def _count(pool: LimitedPool, data: bytes, name: str, limits: IngestLimits) -> int:
    """Pages of one uploaded file, off the event loop. A JPEG or PNG is counted from its
    header in a thread; a PDF or TIFF is parsed in the inspection process, which a hostile
    file can only take down with itself. Raises IngestError or TaskFailed."""
    if precheck(data, limits) in ("jpeg", "png"):  # size and type first, in this process
        return await run_in_threadpool(count_pages, data, name, limits)
    return await pool.run(count_pages, data, name, limits, timeout=INSPECT_SECONDS)


@router.get("/batches/{batch_id}", response_model=Batch)
def batch_status(
    batch_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> Batch:
    """批次进度:pages_done / pages_total,state 为 queued、reading 或 done。"""
    batch = store.get_batch(batch_id)
    if batch is None or not who.sees(batch.station):
        raise not_found("这个批次")
    return batch


@router.get("/batches", response_model=list[Batch])
def batches(
    who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> list[Batch]:
    return store.list_batches(station=who.station_filter)
