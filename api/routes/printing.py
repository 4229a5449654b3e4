"""Printing: blank and prefilled PDFs, reprints of read records, many forms from CSV/XLSX.
Every printed document is registered, so its scan can later be matched to it: every route
that prints is a POST (a write, with the CSRF token), never a GET."""

from __future__ import annotations

import dataclasses
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from formdesk.render.record_sources import MAX_BYTES as MAX_DATA_BYTES
from formdesk.render.record_sources import MB, checked_batch
from formdesk.render.reprint_values import reprint_values
from formdesk.services.pools import TaskFailed
from formdesk.services.print_jobs import (
    MAX_BATCH_FORMS,
    MAX_BATCH_PAGES,
    MAX_NOW_PAGES,
    PrintJob,
    form_pages,
    render_now,
)
from formdesk.services.printing import register_printed
from formdesk.store import Store
from formdesk.templates import Template, get_template, load_catalog
from formdesk.templates.layout import describe
from formdesk.templates.values.normalize import FieldValueError, normalize_record

from ..deps import current_principal, get_store, not_found, writer
from ..filenames import content_disposition, neutral_filename
from ..principal import Principal
from .records import usable_record

router = APIRouter(prefix="/api", tags=["printing"])


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


def _normalised(template: Template, records: list[dict | None]) -> list[dict | None]:
    """Every record's values checked and normalised; HTTPException 422 names the field."""
    clean: list[dict | None] = []
    for n, values in enumerate(records, start=1):
        try:
            clean.append(normalize_record(template, values) if values is not None else None)
        except FieldValueError as exc:
            where = f"第{n}条记录 " if len(records) > 1 else ""
            raise HTTPException(422, f"{where}{exc}") from None
    return clean


async def _pdf(
    request: Request,
    store: Store,
    who: Principal,
    template: Template,
    records: list[dict | None],
    copies: int,
    station: str | None,
) -> Response:
    """A few forms rendered in the render process while the request waits on the event
    loop; every document registered before the PDF is returned. More than MAX_NOW_PAGES
    pages is refused (422): a batch job prints those."""
    clean = await run_in_threadpool(_normalised, template, records)
    pages = form_pages(template, clean, copies)
    if pages > MAX_NOW_PAGES:
        raise HTTPException(
            422,
            f"一次最多直接打印 {MAX_NOW_PAGES} 页(这次需要 {pages} 页);"
            "请减少份数或表格行数,或上传表格批量打印",
        )
    try:
        data, docs = await render_now(
            request.app.state.render_pool, request.app.state.key, template, clean, copies
        )
    except TaskFailed as exc:  # ValueDoesNotFitError: 422 by api/errors.py
        raise HTTPException(503, f"打印失败:{exc.reason},请减少份数后重试") from None
    await run_in_threadpool(
        partial(register_printed, store, docs, station=station, issued_by=who.username)
    )
    name = f"{template.slug}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(name),
            "X-Document-Ids": ",".join(d.document_id for d in docs),
        },
    )


def _station(who: Principal, station: str | None, store: Store) -> str | None:
    if who.role == "station":
        return who.station
    if station and store.get_station(station) is None:
        raise HTTPException(422, f"没有维修站 {station}")
    return station


@router.post("/print/{slug}/blank.pdf", response_class=Response)
async def blank(
    request: Request,
    slug: str,
    copies: int = Query(1, ge=1, le=200),
    station: str | None = None,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """空白表单 PDF(每份都有自己的文档号;登记为已打印文档,故用 POST)。"""
    code = await run_in_threadpool(_station, who, station, store)
    return await _pdf(request, store, who, template_or_404(slug), [None], copies, code)


@router.post("/print/{slug}", response_class=Response)
async def prefilled(
    request: Request,
    slug: str,
    values: dict[str, Any] = Body(...),
    copies: int = Query(1, ge=1, le=200),
    station: str | None = None,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """按 JSON 栏目值生成预填表单 PDF;值按模板校验,不合格返回 422 并说明哪一栏。"""
    code = await run_in_threadpool(_station, who, station, store)
    return await _pdf(request, store, who, template_or_404(slug), [values], copies, code)


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


# parsing one print-data file in the spreadsheet process; files are bounded like claims
# files (the largest within the table budgets took 29 s as XLSX)
PARSE_SECONDS = 90.0


def _too_large(filename: str, size: int) -> str:
    return f"{filename}:文件 {size / MB:.1f} MB,超过 {MAX_DATA_BYTES // MB} MB 上限"


async def _read_batch(
    request: Request, data: bytes, filename: str, template: Template
) -> list[dict]:
    """The rows of a print-data file, each normalised, parsed in the spreadsheet process
    (`app.state.tables_pool`), never in the service. HTTPException 422 names the line and
    field, or says the file was too demanding (out of memory or time)."""
    pool = request.app.state.tables_pool
    try:
        return await pool.run(
            checked_batch, data, filename, template.code, MAX_BATCH_FORMS, timeout=PARSE_SECONDS
        )
    except TaskFailed as exc:  # out of memory or time, or dead: the file's doing
        raise HTTPException(
            422, f"{filename}:文件过于复杂,无法读取({exc.reason});请分批打印"
        ) from None


@router.post("/print/{slug}/batch", response_model=PrintJobOut, status_code=202)
async def from_file(
    request: Request,
    slug: str,
    file: UploadFile,
    station: str | None = None,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> PrintJobOut:
    """上传 CSV(UTF-8)、XLSX 或 JSON,每行一份预填表单:立即返回打印任务(202),
    在 status_url 查看进度,完成后从 file_url 下载合成的 PDF。"""
    template = template_or_404(slug)
    filename = neutral_filename(file.filename)
    if Path(filename).suffix.lower() not in (".csv", ".xlsx", ".json"):
        raise HTTPException(415, "请上传 .csv(UTF-8)、.xlsx 或 .json 文件")
    if file.size is not None and file.size > MAX_DATA_BYTES:  # spooled, not yet read
        raise HTTPException(413, _too_large(filename, file.size))
    data = await file.read(MAX_DATA_BYTES + 1)
    if len(data) > MAX_DATA_BYTES:  # checked before the bytes go to any process
        raise HTTPException(413, _too_large(filename, len(data)))
    code = await run_in_threadpool(_station, who, station, store)
    records = await _read_batch(request, data, filename, template)
    pages = form_pages(template, records, 1)
    if pages > MAX_BATCH_PAGES:
        raise HTTPException(
            422, f"{filename}:一次最多打印 {MAX_BATCH_PAGES} 页(这个文件需要 {pages} 页),请分批"
        )
    job = request.app.state.print_jobs.submit(  # TooManyJobs: 429 by api/errors.py
        template, records, filename=filename, created_by=who.username, station=code
    )
    return PrintJobOut.of(job)


def _visible_job(request: Request, who: Principal, job_id: str) -> PrintJob:
    job = request.app.state.print_jobs.get(job_id)
    if job is None or not (who.role == "back_office" or job.created_by == who.username):
        raise not_found("这个打印任务")
    return job


@router.get("/print-jobs/{job_id}", response_model=PrintJobOut)
def print_job(
    request: Request, job_id: str, who: Principal = Depends(current_principal)
) -> PrintJobOut:
    """打印任务的进度:done / total 份,state 为 queued、rendering、done 或 failed。"""
    return PrintJobOut.of(_visible_job(request, who, job_id))


@router.get("/print-jobs/{job_id}/file.pdf", response_class=Response)
def print_job_file(
    request: Request, job_id: str, who: Principal = Depends(current_principal)
) -> Response:
    """已完成的打印任务的 PDF。"""
    job = _visible_job(request, who, job_id)
    if job.state != "done" or job.path is None:
        raise HTTPException(409, "打印任务尚未完成" if job.state != "failed" else job.error)
    try:
        data = job.path.read_bytes()
    except FileNotFoundError:
        raise HTTPException(410, "这个打印任务的文件已过期,请重新提交") from None
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(f"{job.slug}.pdf"),
            "X-Document-Ids": ",".join(job.document_ids),
        },
    )


@router.post("/records/{record_id}/reprint.pdf", response_class=Response)
async def reprint(
    request: Request,
    record_id: str,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """按识读(及更正)后的值重新打印这份表单(登记为新文档,故用 POST)。"""
    stored = await run_in_threadpool(usable_record, store, who, record_id)
    template = template_or_404(stored.summary.template)
    # a field read as invalid is refused by name (FieldValueError, 422), never printed blank
    values = reprint_values(stored.record)
    return await _pdf(request, store, who, template, [values], 1, stored.summary.station)


@router.get("/documents/{document_id}")
def document(
    document_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
):
    doc = store.get_document(document_id)
    if doc is None or not who.sees(doc.station):
        raise not_found("这份文档")
    return doc
