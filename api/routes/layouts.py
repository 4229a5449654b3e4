"""Layout variants (issue 13) for the back office's 表单版式 page: the variants per form,
a proposal from an uploaded scan held as a draft while the clerk corrects it, saving it,
removing, exporting and importing.  The work is services.layouts' and
services.layout_drafts'; anyone but a back-office user gets 403.

Units: every box is [x, y, w, h] in mm of the reference image, origin top-left; the image
is the scan flattened to the paper's size at 200 dpi (`px_per_mm` in each answer), so
pixels = mm × px_per_mm.  A form is named in paths by its slug (sh-zh-bd-27, form-04) or
code.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from formdesk.model.layouts import FieldBox, LayoutDraft, LayoutVariant, TableLayout
from formdesk.services import layouts as service
from formdesk.services.layout_drafts import PX_PER_MM, LayoutDrafts
from formdesk.services.stores import Store
from formdesk.templates import get_template
from formdesk.templates.schema import FieldType, Template

from ..deps import current_principal, get_store, writer
from ..filenames import content_disposition, neutral_filename
from ..principal import Principal

router = APIRouter(prefix="/api", tags=["layouts"])

REFUSALS = {
    403: {"description": "只有售后服务部(后台)用户可以管理表单版式"},
    404: {"description": "表单、版式或草稿不存在"},
    409: {"description": "该表单已有同名版式"},
    413: {"description": "文件超过大小上限"},
    422: {"description": "文件、框或名称不符合要求(reason 说明原因)"},
}


def layout_admin(who: Principal = Depends(writer)) -> Principal:
    """A back-office user (403 ``只有售后服务部(后台)用户可以管理表单版式`` for a station
    user; an auditor already gets 403 from `writer`)."""
    if who.role != "back_office":
        raise HTTPException(403, "只有售后服务部(后台)用户可以管理表单版式")
    return who


def layout_viewer(who: Principal = Depends(current_principal)) -> Principal:
    """A back-office user, for the read-only routes (GET: no write rights asked, as no
    CSRF token is checked there; 403 as `layout_admin` for anyone else)."""
    if who.role != "back_office":
        raise HTTPException(403, "只有售后服务部(后台)用户可以管理表单版式")
    return who


def drafts(request: Request) -> LayoutDrafts:
    return request.app.state.layout_drafts


class BoxOut(BaseModel):
    """A field's box: key, Chinese label, [x, y, w, h] mm, how it was found (label,
    options, manual)."""

    key: str
    label: str
    box: tuple[float, float, float, float]
    source: str


class FieldRef(BaseModel):
    key: str
    label: str
    assignable: bool  # False for the table: its rows and columns come from the ruled lines


class ColumnOut(BaseModel):
    key: str
    label: str
    box: tuple[float, float, float, float]


def _boxes(template: Template, fields: list[FieldBox]) -> list[BoxOut]:
    labels = {f.key: f.label for f in template.fields}
    return [
        BoxOut(key=f.key, label=labels.get(f.key, f.key), box=f.box, source=f.source)
        for f in fields
    ]


def _columns(template: Template, table: TableLayout | None) -> list[ColumnOut]:
    if table is None:
        return []
    labels = {c.key: c.label for c in template.field(table.key).columns}
    return [
        ColumnOut(key=k, label=labels.get(k, k), box=table.column_box(k)) for k in table.columns
    ]


class DraftOut(BaseModel):
    """A proposal held as a draft: boxes in mm of the reference image
    (`reference_url`, `px_per_mm` pixels per mm), the fields not found, the table's
    columns when found."""

    draft_id: str
    template: str
    title: str
    filename: str
    paper_mm: tuple[float, float]
    px_per_mm: float
    reference_url: str
    fields: list[BoxOut]
    missing: list[FieldRef]
    columns: list[ColumnOut]
    created_by: str
    created_at: str


def draft_out(draft: LayoutDraft) -> DraftOut:
    template = get_template(draft.template)
    by_key = {f.key: f for f in template.fields}
    return DraftOut(
        draft_id=draft.draft_id,
        template=template.code,
        title=template.title,
        filename=draft.filename,
        paper_mm=draft.paper_mm,
        px_per_mm=PX_PER_MM,
        reference_url=f"/api/layout-drafts/{draft.draft_id}/reference.png",
        fields=_boxes(template, draft.fields),
        missing=[
            FieldRef(key=k, label=by_key[k].label, assignable=by_key[k].type != FieldType.table)
            for k in draft.missing
        ],
        columns=_columns(template, draft.table),
        created_by=draft.created_by,
        created_at=draft.model_dump(mode="json")["created_at"],
    )


class VariantOut(BaseModel):
    """A registered variant: its form, name, boxes (mm), the fields it has no box for,
    the table's columns, who registered it and when (ISO UTC), and where its files are."""

    template: str
    title: str
    slug: str
    name: str
    paper_mm: tuple[float, float]
    px_per_mm: float
    fields: list[BoxOut]
    missing: list[FieldRef]
    columns: list[ColumnOut]
    created_by: str
    created_at: str
    reference_url: str
    preview_url: str
    export_url: str


def variant_out(variant: LayoutVariant) -> VariantOut:
    template = get_template(variant.template)
    boxed = {f.key for f in variant.fields} | ({variant.table.key} if variant.table else set())
    base = f"/api/layouts/{template.slug}/{variant.name}"
    return VariantOut(
        template=template.code,
        title=template.title,
        slug=template.slug,
        name=variant.name,
        paper_mm=variant.paper_mm,
        px_per_mm=PX_PER_MM,
        fields=_boxes(template, variant.fields),
        missing=[
            FieldRef(key=f.key, label=f.label, assignable=f.type != FieldType.table)
            for f in template.fields
            if f.key not in boxed
        ],
        columns=_columns(template, variant.table),
        created_by=variant.created_by,
        created_at=variant.model_dump(mode="json")["created_at"],
        reference_url=f"{base}/reference.png",
        preview_url=f"{base}/preview.png",
        export_url=f"{base}/export",
    )


def _png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


# -- drafts: a proposal from an uploaded scan, corrected, saved ------------------------------------


@router.post("/layout-drafts", response_model=DraftOut, status_code=201, responses=REFUSALS)
async def propose(
    request: Request,
    file: UploadFile,
    template: str = Form(...),
    who: Principal = Depends(layout_admin),
) -> DraftOut:
    """上传一张空白(或已填写)表单的扫描件或照片(PDF 取第一页;JPEG、PNG、TIFF),字段名
    file,并指明表单(template:代码或 slug)。在识读进程中找出各栏目的框(不在网页服务进程中
    识别文字),作为草稿保存,直到保存为版式或放弃。文件大小与类型的限制同上传扫描件。"""
    data = await file.read()
    return draft_out(
        await drafts(request).propose(template, data, neutral_filename(file.filename), who.username)
    )


@router.get("/layout-drafts/{draft_id}", response_model=DraftOut, responses=REFUSALS)
def get_draft(draft_id: str, request: Request, who: Principal = Depends(layout_viewer)) -> DraftOut:
    """一个版式草稿:参考图像上的各栏目框(mm)、未找到的栏目。"""
    return draft_out(drafts(request).get(draft_id))


@router.get("/layout-drafts/{draft_id}/reference.png", responses=REFUSALS)
def draft_reference(
    draft_id: str, request: Request, who: Principal = Depends(layout_viewer)
) -> Response:
    """草稿的参考图像:拉正到纸张大小的扫描件,灰度 PNG,200 dpi。"""
    return _png(drafts(request).reference(draft_id))


@router.delete("/layout-drafts/{draft_id}", status_code=204, responses=REFUSALS)
def discard_draft(
    draft_id: str, request: Request, who: Principal = Depends(layout_admin)
) -> Response:
    """放弃草稿。"""
    drafts(request).remove(draft_id)
    return Response(status_code=204)


class SaveIn(BaseModel):
    """The body of POST /api/layout-drafts/{id}/save: the variant's name and every
    field's box, key → [x, y, w, h] mm of the reference image (a field left out has no
    box on this layout)."""

    name: str
    boxes: dict[str, tuple[float, float, float, float]]


@router.post(
    "/layout-drafts/{draft_id}/save", response_model=VariantOut, status_code=201, responses=REFUSALS
)
def save_draft(
    draft_id: str,
    request: Request,
    body: SaveIn = Body(...),
    who: Principal = Depends(layout_admin),
    store: Store = Depends(get_store),
) -> VariantOut:
    """把草稿保存为版式:名称(1–40 个字母、数字、汉字或 . _ -)和各栏目的框(mm,须在页面内,
    宽高至少 2 mm,只能是该表单的栏目)。保存后草稿即删除。"""
    return variant_out(
        drafts(request).save(store, draft_id, body.name, dict(body.boxes), who.username)
    )


# -- registered variants ---------------------------------------------------------------------------


@router.get("/layouts", response_model=list[VariantOut], responses=REFUSALS)
def list_variants(
    template: str | None = None,
    who: Principal = Depends(layout_viewer),
    store: Store = Depends(get_store),
) -> list[VariantOut]:
    """已登记的版式(全部,或 template 指定的表单),按表单和名称。"""
    return [variant_out(v) for v in service.list_layouts(store, template)]


@router.post("/layouts/import", response_model=VariantOut, status_code=201, responses=REFUSALS)
async def import_variant(
    request: Request,
    file: UploadFile,
    name: str | None = Form(None),
    who: Principal = Depends(layout_admin),
    store: Store = Depends(get_store),
) -> VariantOut:
    """导入其他服务中心导出的版式文件(字段名 file;name:另存为此名称)。文件在版式处理进程中
    检查:参考图像先按 PNG 文件头中的尺寸核对纸张大小(不符即拒绝,不解码),再解码核对。"""
    data = await file.read(service.MAX_IMPORT_BYTES + 1)
    variant = await drafts(request).import_file(
        store, data, who.username, (name or "").strip() or None
    )
    return variant_out(variant)


@router.get("/layouts/{form}/{name}", response_model=VariantOut, responses=REFUSALS)
def get_variant(
    form: str, name: str, who: Principal = Depends(layout_viewer), store: Store = Depends(get_store)
) -> VariantOut:
    """一个版式:各栏目的框(mm)、没有框的栏目、明细表的列。"""
    return variant_out(service.get_layout(store, form, name))


@router.get("/layouts/{form}/{name}/reference.png", responses=REFUSALS)
def variant_reference(
    form: str, name: str, who: Principal = Depends(layout_viewer), store: Store = Depends(get_store)
) -> Response:
    """版式的参考图像(灰度 PNG,200 dpi)。"""
    return _png(service.layout_reference(store, form, name))


@router.get("/layouts/{form}/{name}/preview.png", responses=REFUSALS)
def variant_preview(
    form: str, name: str, who: Principal = Depends(layout_viewer), store: Store = Depends(get_store)
) -> Response:
    """参考图像上画出各栏目的框并标上栏目名(PNG)。"""
    return _png(service.preview(store, form, name))


@router.get("/layouts/{form}/{name}/export", responses=REFUSALS)
def export_variant(
    form: str, name: str, who: Principal = Depends(layout_viewer), store: Store = Depends(get_store)
) -> Response:
    """把版式导出为文件(JSON,含参考图像),供其他服务中心导入。"""
    variant = service.get_layout(store, form, name)
    data = service.export_layout(store, variant.template, variant.name)
    filename = f"版式-{get_template(variant.template).slug}-{variant.name}.json"
    headers = {"Content-Disposition": content_disposition(filename, "layout.json")}
    return Response(data, media_type="application/json", headers=headers)


@router.delete("/layouts/{form}/{name}", status_code=204, responses=REFUSALS)
def remove_variant(
    form: str, name: str, who: Principal = Depends(layout_admin), store: Store = Depends(get_store)
) -> Response:
    """删除一个版式(已读出的记录不受影响)。"""
    service.remove_layout(store, form, name)
    return Response(status_code=204)
