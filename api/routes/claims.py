"""Warranty claims (三包索赔单): the back office imports the warranty system's file or a read
SH-ZH/BD-25 record; everyone lists them, a station only its own (services/claims.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from formdesk.model.claims import Claim, ClaimImport
from formdesk.services.claims import (
    claim_imports,
    find_claims,
    import_claims_upload,
    import_record_claims,
    undo_import,
)
from formdesk.services.stores import Store

from ..deps import back_office, current_principal, get_store
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
    # ClaimFileError (422 with every row problem, 413 too large), ConflictError (409):
    # answered by api/errors.py
    return import_claims_upload(
        store,
        request.app.state.tables_pool,
        file.file,
        filename=neutral_filename(file.filename),
        declared_size=file.size,
        user=who.username,
        replace=replace,
        timeout=PARSE_SECONDS,
    )


@router.post("/claims/from-record/{record_id}", response_model=ClaimImport, responses=REFUSALS)
def import_record(
    record_id: str,
    replace: bool = Form(False),
    who: Principal = Depends(back_office),
    store: Store = Depends(get_store),
) -> ClaimImport | Response:
    """把识读的 SH-ZH/BD-25(月份维修信息反馈)记录的明细行导入为索赔单。"""
    return import_record_claims(store, who, record_id, replace)


@router.get("/claims", response_model=ClaimList)
def list_claims(
    station: str | None = None,
    month: str | None = None,
    q: str | None = Query(None, max_length=100),
    import_id: str | None = Query(None, max_length=64),
    offset: int = Query(0, ge=0),
    limit: int = Query(500, ge=1, le=5000),
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> ClaimList:
    """按维修站、维修月份(如 2026-11)列出索赔单(分页:offset、limit,每页最多 5000 张);
    q:索赔单号或车架号包含的文字;import_id:某次导入带来的索赔单。
    维修站用户只看到本站的。total 为全部符合条件的张数。"""
    items = find_claims(store, who, station=station, month=month, text=q, import_id=import_id)
    return ClaimList(total=len(items), items=items[offset : offset + limit])


@router.get("/claims/imports", response_model=list[ClaimImport])
def list_imports(
    who: Principal = Depends(current_principal), store: Store = Depends(get_store)
) -> list[ClaimImport]:
    """历次导入(最新的在前):售后服务部与审计员可看。"""
    if who.role == "station":
        raise HTTPException(403, "维修站用户不能查看索赔单导入记录")
    return claim_imports(store)


class UndoneImport(BaseModel):
    imported: ClaimImport  # the import as now stored (undone_by, undone_at set)
    deleted: int  # claims taken out


@router.post("/claims/imports/{import_id}/undo", response_model=UndoneImport)
def undo_claim_import(
    import_id: str, who: Principal = Depends(back_office), store: Store = Depends(get_store)
) -> UndoneImport:
    """撤销一次导入:删除它导入的索赔单(导入记录保留并标明撤销人和时间);替换过已有索赔单的导入不能撤销(409)。"""
    done, deleted = undo_import(store, who, import_id)
    return UndoneImport(imported=done, deleted=deleted)
