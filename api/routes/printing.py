"""Printing: blank and prefilled PDFs, reprints of read records, many forms from CSV/XLSX.
Every printed document is registered, so its scan can later be matched to it: every route
that prints is a POST (a write, with the CSRF token), never a GET."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from formdesk.services import print_requests as service
from formdesk.services.print_jobs import PrintJob
from formdesk.services.print_requests import MAX_DATA_BYTES, PrintedPdf
from formdesk.services.stores import Store
from formdesk.templates import Template, get_template, load_catalog
from formdesk.templates.layout import describe

from ..deps import current_principal, get_store, writer
from ..filenames import content_disposition, neutral_filename
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["printing"])

PAPER = Query(
    "a4x4",
    description="小标签(SH-ZH/BD-27、BD-30)的纸张:a4x4 每张 A4 拼 4 枚(默认),a6 每页 A6 一枚",
)


def template_or_404(code: str) -> Template:
    """The template; UnknownTemplateError (404, the closest codes named) otherwise."""
    return get_template(code)


@router.get("/templates")
def templates(who: Principal = Depends(current_principal)) -> list[dict]:
    return [
        {
            "code": t.code,
            "slug": t.slug,
            "title": t.title,
            "version": t.version,
            "paper": f"{t.paper.size} {t.paper.orientation}",
            "fields_source": t.fields_source,
        }
        for t in load_catalog().values()
    ]


@router.get("/templates/{slug}")
def template(slug: str, who: Principal = Depends(current_principal)) -> dict:
    """模板的全部栏目与坐标(mm)。slug 如 sh-zh-bd-27、form-04。"""
    return describe(template_or_404(slug))


def _pdf(printed: PrintedPdf) -> Response:
    """The printed PDF as an attachment, its documents' ids in X-Document-Ids."""
    return Response(
        printed.data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(printed.filename),
            "X-Document-Ids": ",".join(printed.document_ids),
        },
    )


async def _print(
    request: Request,
    store: Store,
    who: Principal,
    slug: str,
    records: list[dict | None],
    copies: int,
    station: str | None,
    paper: str,
) -> Response:
    """A few forms printed now in the render process (`service.print_forms`: 422 for a
    bad value, a paper the form does not take or more than MAX_NOW_PAGES pages, 403 for
    a station user printing for another station, 503 when rendering failed)."""
    state = request.app.state
    printed = await service.print_forms(
        store, state.render_pool, state.key, who, slug, records, copies, station, paper
    )
    return _pdf(printed)


@router.post("/print/{slug}/blank.pdf", response_class=Response)
async def blank(
    request: Request,
    slug: str,
    copies: int = Query(1, ge=1, le=200),
    station: str | None = None,
    paper: str = PAPER,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """空白表单 PDF(每份都有自己的文档号;登记为已打印文档,故用 POST)。"""
    return await _print(request, store, who, slug, [None], copies, station, paper)


@router.post("/print/{slug}", response_class=Response)
async def prefilled(
    request: Request,
    slug: str,
    values: dict[str, Any] = Body(...),
    copies: int = Query(1, ge=1, le=200),
    station: str | None = None,
    paper: str = PAPER,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """按 JSON 栏目值生成预填表单 PDF;值按模板校验,不合格返回 422 并说明哪一栏;维修站用户
    只能为本站打印(填了其他维修站返回 403)。"""
    return await _print(request, store, who, slug, [values], copies, station, paper)


class PrintJobOut(BaseModel):
    """A batch being printed: state queued, rendering, done or failed; `done` of `total`
    forms; the PDF at `file_url` once done."""

    job_id: str
    template: str
    filename: str
    state: str
    done: int
    total: int
    error: str | None = None
    document_ids: list[str] = []
    skipped: list[str] = []  # the file's bad rows left out (skip_bad), 第5行 车架号码:…
    paper: str = "a4x4"  # small tags: a4x4 (four to an A4 sheet) or a6 (one per A6 page)
    status_url: str
    file_url: str | None = None

    @classmethod
    def of(cls, job: PrintJob) -> PrintJobOut:
        done = job.state == "done"
        return cls.model_validate(
            dataclasses.asdict(job)
            | {
                "status_url": f"/api/print-jobs/{job.job_id}",
                "file_url": f"/api/print-jobs/{job.job_id}/file.pdf" if done else None,
            }
        )


@router.post("/print/{slug}/batch", response_model=PrintJobOut, status_code=202)
async def from_file(
    request: Request,
    slug: str,
    file: UploadFile,
    station: str | None = None,
    skip_bad: bool = Query(
        False, description="跳过有错的行,只打印正确的行(有错的行列在任务的 skipped 中)"
    ),
    paper: str = PAPER,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> PrintJobOut:
    """上传 CSV(UTF-8)、XLSX 或 JSON,每行一份预填表单:立即返回打印任务(202),
    在 status_url 查看进度,完成后从 file_url 下载合成的 PDF。"""
    template = template_or_404(slug)
    filename = neutral_filename(file.filename)
    service.check_data_file(filename, file.size)  # 415 by name, 413 by declared size
    data = await file.read(MAX_DATA_BYTES + 1)
    state = request.app.state
    job = await service.submit_print_batch(  # TooManyJobs: 429 by api/errors.py
        store, state.print_jobs, state.tables_pool, who, template, data, filename, station,
        skip_bad=skip_bad, paper=paper,
    )  # fmt: skip
    return PrintJobOut.of(job)


class PrintDataCheckOut(BaseModel):
    """A print-data file checked row by row (nothing printed): how many rows would print
    and what is wrong with each of the others."""

    filename: str
    good: int
    pages: int
    bad: int
    problems: list[str]


@router.post("/print/{slug}/check", response_model=PrintDataCheckOut)
async def check_file(
    request: Request,
    slug: str,
    file: UploadFile,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> PrintDataCheckOut:
    """检查 CSV/XLSX/JSON 打印数据:逐行校验,返回可打印的行数和每一行错误(不打印、不登记)。"""
    template = template_or_404(slug)
    filename = neutral_filename(file.filename)
    service.check_data_file(filename, file.size)
    data = await file.read(MAX_DATA_BYTES + 1)
    checked = await service.check_print_data(
        store, request.app.state.tables_pool, who, template, data, filename
    )
    return PrintDataCheckOut(**dataclasses.asdict(checked))


@router.get("/print-jobs/{job_id}", response_model=PrintJobOut)
def print_job(
    request: Request, job_id: str, who: Principal = Depends(current_principal)
) -> PrintJobOut:
    """打印任务的进度:done / total 份,state 为 queued、rendering、done 或 failed。"""
    return PrintJobOut.of(service.visible_print_job(request.app.state.print_jobs, who, job_id))


@router.get("/print-jobs/{job_id}/file.pdf", response_class=Response)
def print_job_file(
    request: Request, job_id: str, who: Principal = Depends(current_principal)
) -> Response:
    """已完成的打印任务的 PDF。"""
    job, data = service.print_job_pdf(request.app.state.print_jobs, who, job_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(
                service.print_filename(job.template, len(job.document_ids))
            ),
            "X-Document-Ids": ",".join(job.document_ids),
        },
    )


@router.post("/records/{record_id}/reprint.pdf", response_class=Response)
async def reprint(
    request: Request,
    record_id: str,
    paper: str = PAPER,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """按识读(及更正)后的值重新打印这份表单(登记为新文档,故用 POST)。"""
    state = request.app.state
    return _pdf(
        await service.reprint_record(store, state.render_pool, state.key, who, record_id, paper)
    )


@router.get("/documents/{document_id}")
def document(
    document_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
):
    return service.visible_document(store, who, document_id)
