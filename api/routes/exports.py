"""Exporting records as CSV, XLSX and JSON (the same filters as the list); the files are
built by services/exports.py."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from formdesk.services.exports import ExportFormat, export_records
from formdesk.services.stores import Store

from ..deps import current_principal, get_store
from ..filenames import content_disposition
from ..principal import Principal
from .records import RecordFilters

router = APIRouter(prefix="/api", tags=["exports"])


@router.get("/export.{fmt}", response_class=Response)
def export(
    fmt: ExportFormat,
    query: RecordFilters,
    who: Principal = Depends(current_principal),
    store: Store = Depends(get_store),
) -> Response:
    """导出筛选出的记录(最多 10000 条):xlsx(每种表单一个工作表,表格栏另有明细表)、
    csv(每种表单一个文件,UTF-8 带 BOM;多种表单时为 zip)、json(供程序使用)。

    以 = + - @ 制表符或回车开头的文字按文本写出,不会被表格软件当作公式(见 render/cells.py)。"""
    file = export_records(store, who, query, fmt)
    disposition = {"Content-Disposition": content_disposition(file.filename, file.ascii_name)}
    return Response(file.data, media_type=file.media_type, headers=disposition)
