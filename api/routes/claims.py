"""Warranty claims (三包索赔单): the back office imports the warranty system's file or a read
SH-ZH/BD-25 record; everyone lists them, a station only its own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from formdesk.ingest.claims import (
    MAX_CLAIMS_BYTES,
    ClaimFileError,
    check_size,
    new_import_id,
    parse_claims_file,
)
from formdesk.model.claims import Claim, ClaimImport
from formdesk.services.claims import import_claims_from_record, store_claims_file
from formdesk.services.pools import TaskFailed
from formdesk.store import Store
from formdesk.templates.values.dates import DateValueError, month_span

from ..deps import back_office, current_principal, get_store, not_found
from ..filenames import neutral_filename
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["claims"])
# parsing one claims file in the spreadsheet process (1 GB of address space, ~560 MB of it
# its imports): the largest file within the table budgets (1,000,000 cells, ~71,000
# claims) took 29–35 s as XLSX and 7 s as CSV, and at most ~920 MB of address space
PARSE_SECONDS = 90.0

REFUSALS = {
    409: {"description": "索赔单号已存在且内容不同(未选择替换)"},
    413: {"description": "文件超过大小上限"},
    422: {"description": "文件有错:reason 为摘要,problems 逐行列出(行号、列、原因)"},
}


class ClaimList(BaseModel):
    total: int
    items: list[Claim]


def _failed(exc: TaskFailed, name: str) -> ClaimFileError:
    """Parsing that ran out of memory or time, or whose process died (out of memory in C
    code), is the file's doing: refused like any file the budgets refuse (422)."""
    return ClaimFileError(f"{name}:文件过于复杂,无法读取({exc.reason});请分批导入")


@router.post("/claims/import", response_model=ClaimImport, responses=REFUSALS)
def import_file(
    request: Request,
    file: UploadFile,
    replace: bool = Form(False),
    who: Principal = Depends(back_office),
    store: Store = Depends(get_store),
) -> ClaimImport | Response:
    """导入三包系统导出的索赔单(CSV 或 XLSX,字段名 file);任何一行有错则全部不导入。

    replace=true:已导入的索赔单内容不同时以本文件为准(否则 409)。

    The file is parsed in the spreadsheet process (`app.state.tables_pool`, limited in
    memory and to PARSE_SECONDS), never in the service; the checked claims come back and
    are stored here."""
    name = neutral_filename(file.filename)
    if file.size is not None:
        check_size(file.size, name)  # spooled to disk by the form parser, not yet read
    data = file.file.read(MAX_CLAIMS_BYTES + 1)
    check_size(len(data), name)
    import_id = new_import_id()
    pool = request.app.state.tables_pool
    try:
        claims = pool.call(parse_claims_file, data, name, import_id, timeout=PARSE_SECONDS)
    except TaskFailed as exc:
        raise _failed(exc, name) from None
    # ClaimFileError (422 with every row problem, 413 too large), ConflictError (409):
    # answered by api/errors.py
    return store_claims_file(store, claims, import_id, name, data, who.username, replace)


@router.post("/claims/from-record/{record_id}", response_model=ClaimImport, responses=REFUSALS)
def import_record(
    record_id: str,
    replace: bool = Form(False),
    who: Principal = Depends(back_office),
    store: Store = Depends(get_store),
) -> ClaimImport | Response:
    """把识读的 SH-ZH/BD-25(月份维修信息反馈)记录的明细行导入为索赔单。"""
    stored = store.get_record(record_id)
    if stored is None:
        raise not_found("这条记录")
    if stored.damaged:
        raise HTTPException(409, f"这条记录的识读结果无法读取({stored.damaged}),不能导入")
    return import_claims_from_record(store, stored, who.username, replace)


@router.get("/claims", response_model=ClaimList)
def list_claims(
    station: str | None = None,
    month: str | None = None,
    offset: int = Query(0, ge=0),
    limit: int = Query(500, ge=1, le=5000),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> ClaimList:
    """按维修站、维修月份(如 2026-11)列出索赔单(分页:offset、limit,每页最多 5000 张);
    维修站用户只看到本站的。total 为全部符合条件的张数。"""
    repair_from = repair_to = None
    if month:
        try:
            repair_from, repair_to = month_span(month)
        except DateValueError as exc:
            raise HTTPException(422, str(exc)) from None
    items = store.list_claims(
        station=who.station_filter or station, repair_from=repair_from, repair_to=repair_to
    )
    return ClaimList(total=len(items), items=items[offset : offset + limit])


@router.get("/claims/imports", response_model=list[ClaimImport])
def list_imports(
    who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> list[ClaimImport]:
    """历次导入(最新的在前):售后服务部与审计员可看。"""
    if who.role == "station":
        raise HTTPException(403, "维修站用户不能查看索赔单导入记录")
    return store.list_claim_imports()
