"""Layout variants (issue 13): registering a layout formdesk did not print from one scan or
photo of a blank of it, listing and removing them.  The CLI (`formdesk layout …`) and the
API call these; the proposal itself is extract.layout_proposal's."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from formdesk.extract.align import PX_PER_MM
from formdesk.extract.layout_proposal import Proposal, propose_layout
from formdesk.extract.ocr import OcrEngine, default_engine
from formdesk.ingest import IngestLimits, iter_pages
from formdesk.model.errors import FormdeskError
from formdesk.model.layouts import VARIANT_NAME, FieldBox, LayoutVariant
from formdesk.model.time import utcnow
from formdesk.render.fonts import font_file
from formdesk.store import ConflictError, NotFoundError, Store
from formdesk.templates import Template, get_template
from formdesk.templates.schema import FieldType

from .refusals import Refused

FOUND_MIN = 0.5  # a proposal finding fewer of the form's fields is not this form's layout


def propose_from_file(
    code: str,
    data: bytes,
    filename: str,
    engine: OcrEngine | None = None,
    limits: IngestLimits | None = None,
) -> tuple[Template, Proposal]:
    """The proposal for form `code` from the first page of an uploaded file (PDF, JPEG,
    PNG, TIFF), within the ingest `limits` (default IngestLimits()).  UnknownTemplateError
    (404), IngestError (the file refused), PageOutlineError (422: no page to be seen)."""
    template = get_template(code)
    page = next(iter_pages(data, filename, limits or IngestLimits()), None)
    if page is None:
        raise Refused("文件中没有页面")
    return template, propose_layout(page.image, template, engine or default_engine())


def found_share(template: Template, proposal: Proposal) -> float:
    """Share of the template's fields (a table counting as one) the proposal boxed."""
    total = len(template.fields)
    return (total - len(proposal.missing)) / total if total else 0.0


def check_found(template: Template, proposal: Proposal) -> None:
    """Refused (422, Chinese) when the proposal found fewer than FOUND_MIN of the form's
    fields: another form, or a page without a ruled table."""
    if found_share(template, proposal) < FOUND_MIN:
        raise Refused(
            f"只找到 {template.code} 的 {len(template.fields) - len(proposal.missing)}/"
            f"{len(template.fields)} 个栏目,这一页不像是该表单;请确认表单类型,并上传整页清晰的空白表单"
        )


def reference_png(proposal: Proposal) -> bytes:
    """The proposal's flattened page as the variant's reference image: grayscale PNG,
    PX_PER_MM (200 dpi), the paper's size."""
    gray = cv2.cvtColor(proposal.reference, cv2.COLOR_BGR2GRAY)
    ok, png = cv2.imencode(".png", gray)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()


def register_layout(
    store: Store,
    code: str,
    name: str,
    data: bytes,
    filename: str,
    created_by: str,
    engine: OcrEngine | None = None,
) -> tuple[LayoutVariant, Proposal]:
    """Registers the layout of form `code` in the file as variant `name`, with the boxes
    proposed (a person corrects them later).  Refused (422) when fewer than FOUND_MIN of
    the form's fields were found (another form, or no ruled table); ConflictError (409)
    when the form has a variant of that name."""
    name = name.strip()
    if not VARIANT_NAME.match(name):
        raise Refused(f"版式名称“{name[:40]}”不合适:1–40 个字母、数字、汉字或 . _ -")
    code = get_template(code).code
    if store.get_layout(code, name) is not None:  # before the slow part
        raise ConflictError(f"表单 {code} 已有名为“{name}”的版式")
    template, proposal = propose_from_file(code, data, filename, engine)
    check_found(template, proposal)
    reference = reference_png(proposal)
    variant = LayoutVariant(
        template=template.code,
        name=name,
        paper_mm=(template.geometry.width, template.geometry.height),
        fields=proposal.fields,
        table=proposal.table,
        fingerprint=proposal.fingerprint,
        reference_sha256=hashlib.sha256(reference).hexdigest(),
        created_by=created_by,
        created_at=utcnow(),
    )
    return store.add_layout(variant, reference), proposal


def describe_missing(template: Template, proposal: Proposal) -> list[str]:
    """The labels of the fields the proposal did not find (Chinese, for the clerk)."""
    labels = {f.key: f.label for f in template.fields}
    return [labels[k] for k in proposal.missing]


def list_layouts(store: Store, code: str | None = None) -> list[LayoutVariant]:
    """Every registered variant, or those of form `code` (UnknownTemplateError: 404)."""
    return store.list_layouts(get_template(code).code if code else None)


def remove_layout(store: Store, code: str, name: str) -> None:
    """Removes variant `name` of form `code`; NotFoundError (404) when there is none."""
    template = get_template(code)
    if not store.delete_layout(template.code, name):
        raise NotFoundError(f"表单 {template.code} 没有名为“{name}”的版式")


BOX_MIN_MM = 2.0  # the narrowest / lowest box a person may set


def set_box(
    store: Store, code: str, name: str, key: str, box: tuple[float, float, float, float]
) -> LayoutVariant:
    """A person's box (mm of the reference image) for field `key` (or label) of variant
    `name`: moves
    a proposed box or places a field the proposal did not find (source `manual`; a
    choice's options are then spread over it).  NotFoundError (404), Refused (422): no
    such field, a table, or a box off the page."""
    template = get_template(code)
    variant = store.get_layout(template.code, name)
    if variant is None:
        raise NotFoundError(f"表单 {template.code} 没有名为“{name}”的版式")
    field = next((f for f in template.fields if key in (f.key, f.label)), None)
    if field is None:
        raise Refused(f"表单 {template.code} 没有栏目“{key}”")
    key = field.key
    if field.type == FieldType.table:
        raise Refused("明细表的行列由表格线确定,不能用一个框设置")
    x, y, w, h = box
    pw, ph = variant.paper_mm
    if w < BOX_MIN_MM or h < BOX_MIN_MM or x < 0 or y < 0 or x + w > pw or y + h > ph:
        raise Refused(f"框 {x:g}, {y:g}, {w:g} × {h:g} mm 不在 {pw:g} × {ph:g} mm 的页面内")
    moved = FieldBox(key=key, box=(x, y, w, h), source="manual")
    fields = [f for f in variant.fields if f.key != key] + [moved]
    order = {f.key: i for i, f in enumerate(template.fields)}
    fields.sort(key=lambda f: order[f.key])
    return store.update_layout(variant.model_copy(update={"fields": fields}))


def get_layout(store: Store, code: str, name: str) -> LayoutVariant:
    """Variant `name` of form `code`; NotFoundError (404) when there is none."""
    template = get_template(code)
    variant = store.get_layout(template.code, name)
    if variant is None:
        raise NotFoundError(f"表单 {template.code} 没有名为“{name}”的版式")
    return variant


def layout_reference(store: Store, code: str, name: str) -> bytes:
    """The reference image (grayscale PNG, 200 dpi) of variant `name` of form `code`;
    NotFoundError (404)."""
    variant = get_layout(store, code, name)
    return store.layout_reference(variant.reference_sha256)


def preview(store: Store, code: str, name: str) -> bytes:
    """The variant's reference image with every box drawn and labelled (PNG), for the
    clerk to check a proposal (green: found from a label or options, orange: set by
    hand, blue: the table's columns).  NotFoundError (404)."""
    template = get_template(code)
    variant = store.get_layout(template.code, name)
    if variant is None:
        raise NotFoundError(f"表单 {template.code} 没有名为“{name}”的版式")
    png = store.layout_reference(variant.reference_sha256)
    gray = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    image = Image.fromarray(cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_file(), 22)
    labels = {f.key: f.label for f in template.fields}

    def rect(box, colour, text: str | None = None) -> None:
        x, y, w, h = (v * PX_PER_MM for v in box)
        draw.rectangle([x, y, x + w, y + h], outline=colour, width=3)
        if text:
            draw.text((x + 4, y + 2), text, fill=colour, font=font)

    for f in variant.fields:
        colour = (230, 120, 0) if f.source == "manual" else (0, 150, 60)
        rect(f.box, colour, labels.get(f.key, f.key))
        for mark in f.options.values():
            rect(mark, (200, 0, 160))
    if variant.table is not None:
        cols = {c.key: c.label for c in template.field(variant.table.key).columns}
        for key in variant.table.columns:
            rect(variant.table.column_box(key), (30, 90, 220), cols.get(key, key))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


EXPORT_FORMAT = "formdesk-layout/1"
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def export_layout(store: Store, code: str, name: str) -> bytes:
    """Variant `name` of form `code` as a file to share (issue 13, point 4): JSON with the
    variant and its reference image (PNG, base64).  NotFoundError (404)."""
    template = get_template(code)
    variant = store.get_layout(template.code, name)
    if variant is None:
        raise NotFoundError(f"表单 {template.code} 没有名为“{name}”的版式")
    png = store.layout_reference(variant.reference_sha256)
    body = {
        "format": EXPORT_FORMAT,
        "variant": variant.model_dump(mode="json"),
        "reference_png": base64.b64encode(png).decode("ascii"),
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int] | None:
    """(width, height) in px as the PNG's header (IHDR, its first chunk) declares them,
    read without decoding a pixel; None when the bytes do not start as a PNG does."""
    if len(png) < 24 or png[:8] != PNG_SIGNATURE or png[12:16] != b"IHDR":
        return None
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def reference_size(template: Template) -> tuple[int, int]:
    """The reference image's size for `template`: (width, height) px, the paper at 200 dpi."""
    g = template.geometry
    return round(g.width * PX_PER_MM), round(g.height * PX_PER_MM)


SIZE_SLACK_PX = 2  # a reference image may be this far off the paper's size (rounding)


def checked_layout_file(data: bytes, name: str | None = None) -> tuple[LayoutVariant, bytes]:
    """A file made by `export_layout` checked whole: the variant (renamed `name` if
    given) and its reference image (PNG bytes).  The image's size is read from its PNG
    header first, and an image that does not declare the paper's size (±SIZE_SLACK_PX,
    200 dpi) is refused before a pixel is decoded (a decompression bomb declares
    billions); then it is decoded (OpenCV) to see that it is whole.  CPU and memory:
    run it in a pool process (`LayoutDrafts.import_file`), not in the web process.
    Refused (422, Chinese): not such a file (over MAX_IMPORT_BYTES, not JSON, another
    format), an unknown form or field, an image not its own (SHA-256), not a PNG, not
    the paper's size, or damaged; a bad name."""
    if len(data) > MAX_IMPORT_BYTES:
        raise Refused("版式文件过大")
    try:
        body = json.loads(data.decode("utf-8"))
        if body.get("format") != EXPORT_FORMAT:
            raise ValueError
        png = base64.b64decode(body["reference_png"], validate=True)
        variant = LayoutVariant.model_validate(body["variant"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise Refused("不是 formdesk 导出的版式文件") from None
    try:
        template = get_template(variant.template)
    except FormdeskError:
        raise Refused(f"版式所属的表单 {variant.template} 不在模板目录中") from None
    keys = {f.key for f in template.fields}
    unknown = [b.key for b in variant.fields if b.key not in keys]
    if unknown or (variant.table and variant.table.key not in keys):
        raise Refused(f"版式中有表单 {template.code} 没有的栏目:{'、'.join(unknown)}")
    if hashlib.sha256(png).hexdigest() != variant.reference_sha256:
        raise Refused("版式文件中的参考图像与版式不符(文件可能已损坏)")
    declared = png_size(png)
    if declared is None:
        raise Refused("版式文件中的参考图像不是 PNG 图像")
    want = reference_size(template)
    if any(abs(a - b) > SIZE_SLACK_PX for a, b in zip(declared, want, strict=True)):
        raise Refused(
            f"版式文件中的参考图像为 {declared[0]} × {declared[1]} 像素,不是 {template.code} "
            f"的纸张大小(200 dpi 应为 {want[0]} × {want[1]} 像素);未导入"
        )
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or (image.shape[1], image.shape[0]) != declared:
        raise Refused("版式文件中的参考图像已损坏,无法读取")
    new_name = (name or variant.name).strip()
    if not VARIANT_NAME.match(new_name):
        raise Refused(f"版式名称“{new_name[:40]}”不合适:1–40 个字母、数字、汉字或 . _ -")
    return variant.model_copy(update={"name": new_name}), png


def store_imported(
    store: Store, variant: LayoutVariant, png: bytes, created_by: str
) -> LayoutVariant:
    """A checked variant (`checked_layout_file`) stored here, registered by `created_by`
    now; ConflictError (409) when the form has a variant of that name."""
    variant = variant.model_copy(update={"created_by": created_by, "created_at": utcnow()})
    return store.add_layout(variant, png)


def import_layout(
    store: Store, data: bytes, created_by: str, name: str | None = None
) -> LayoutVariant:
    """A variant exported by `export_layout` (another installation's) stored here, under
    `name` if given, registered by `created_by` now, checked in this process (the CLI;
    the API checks in its layout pool: LayoutDrafts.import_file).  Refused (422,
    Chinese) as `checked_layout_file`; ConflictError (409) when the form has a variant
    of that name."""
    variant, png = checked_layout_file(data, name)
    return store_imported(store, variant, png, created_by)


__all__ = [
    "check_found",
    "describe_missing",
    "get_layout",
    "layout_reference",
    "reference_png",
    "export_layout",
    "checked_layout_file",
    "import_layout",
    "png_size",
    "reference_size",
    "store_imported",
    "found_share",
    "list_layouts",
    "preview",
    "set_box",
    "propose_from_file",
    "register_layout",
    "remove_layout",
]
