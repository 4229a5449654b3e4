"""Printing: blank and prefilled PDFs, reprints of read records, many forms from CSV/XLSX.
Every printed document is registered, so its scan can later be matched to it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response

from formdesk.render.document import PdfRenderer
from formdesk.render.fit import ValueDoesNotFitError
from formdesk.render.record_sources import RecordSourceError, load_records
from formdesk.store import IssuedDoc, Store
from formdesk.templates import Template, UnknownTemplateError, get_template, load_catalog
from formdesk.templates.layout import describe
from formdesk.templates.values.normalize import FieldValueError

from ..deps import current_principal, get_store, not_found, writer
from ..principal import Principal
from .records import usable_record

router = APIRouter(prefix="/api", tags=["printing"])


def template_or_404(code: str) -> Template:
    try:
        return get_template(code)
    except UnknownTemplateError as exc:
        raise HTTPException(404, str(exc)) from None


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


def _pdf(
    request: Request,
    store: Store,
    who: Principal,
    template: Template,
    records: list[dict | None],
    copies: int,
    station: str | None,
) -> Response:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "forms.pdf"
        renderer = PdfRenderer(out, request.app.state.key)
        try:
            for n, values in enumerate(records, start=1):
                for _ in range(copies):
                    try:
                        renderer.add(template, values)
                    except (FieldValueError, ValueDoesNotFitError) as exc:
                        where = f"第{n}条记录 " if len(records) > 1 else ""
                        raise HTTPException(422, f"{where}{exc}") from None
        except BaseException:
            renderer.abort()
            raise
        docs = renderer.close()
        store.register_documents(
            [IssuedDoc.from_issued(d, station=station, issued_by=who.username) for d in docs]
        )
        data = out.read_bytes()
    name = f"{template.slug}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Document-Ids": ",".join(d.document_id for d in docs),
        },
    )


def _station(who: Principal, station: str | None, store: Store) -> str | None:
    if who.role == "station":
        return who.station
    if station and store.get_station(station) is None:
        raise HTTPException(422, f"没有维修站 {station}")
    return station


@router.get("/print/{slug}/blank.pdf", response_class=Response)
def blank(
    request: Request,
    slug: str,
    copies: int = Query(1, ge=1, le=200),
    station: str | None = None,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """空白表单 PDF(每份都有自己的文档号)。"""
    return _pdf(
        request, store, who, template_or_404(slug), [None], copies, _station(who, station, store)
    )


@router.post("/print/{slug}", response_class=Response)
def prefilled(
    request: Request,
    slug: str,
    values: dict[str, Any] = Body(...),
    copies: int = Query(1, ge=1, le=200),
    station: str | None = None,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """按 JSON 栏目值生成预填表单 PDF;值按模板校验,不合格返回 422 并说明哪一栏。"""
    return _pdf(
        request, store, who, template_or_404(slug), [values], copies, _station(who, station, store)
    )


@router.post("/print/{slug}/batch", response_class=Response)
async def from_file(
    request: Request,
    slug: str,
    file: UploadFile,
    station: str | None = None,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """上传 CSV(UTF-8)或 XLSX,每行生成一份预填表单,合成一个 PDF。"""
    template = template_or_404(slug)
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx", ".json"):
        raise HTTPException(415, "请上传 .csv(UTF-8)、.xlsx 或 .json 文件")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data{suffix}"
        path.write_bytes(await file.read())
        try:
            rows = load_records(path, template)
        except RecordSourceError as exc:
            raise HTTPException(
                422, str(exc).replace(path.name, file.filename or path.name)
            ) from None
    return _pdf(
        request,
        store,
        who,
        template,
        [values for _, values in rows],
        1,
        _station(who, station, store),
    )


@router.get("/records/{record_id}/reprint.pdf", response_class=Response)
def reprint(
    request: Request,
    record_id: str,
    who: Principal = Depends(writer),
    store: Store = Depends(get_store),
) -> Response:
    """按识读(及更正)后的值重新打印这份表单。"""
    stored = usable_record(store, who, record_id)
    template = template_or_404(stored.summary.template)
    values = {
        f["key"]: f["value"]
        for f in stored.record["fields"]
        if f.get("value") not in (None, "")
        and f["type"] not in ("signature", "seal", "money_words")
    }
    return _pdf(request, store, who, template, [values], 1, stored.summary.station)


@router.get("/documents/{document_id}")
def document(
    document_id: str, who: Principal = Depends(current_principal), store: Store = Depends(get_store)
):
    doc = store.get_document(document_id)
    if doc is None or not who.sees(doc.station):
        raise not_found("这份文档")
    return doc
