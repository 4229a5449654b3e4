"""Layout variants (issue 13): registering a layout formdesk did not print from one scan or
photo of a blank of it, listing and removing them.  The CLI (`formdesk layout …`) and the
API call these; the proposal itself is extract.layout_proposal's."""

from __future__ import annotations

import hashlib

import cv2

from formdesk.extract.layout_proposal import Proposal, propose_layout
from formdesk.extract.ocr import OcrEngine, default_engine
from formdesk.ingest import IngestLimits, iter_pages
from formdesk.model.layouts import VARIANT_NAME, LayoutVariant
from formdesk.model.time import utcnow
from formdesk.store import ConflictError, NotFoundError, Store
from formdesk.templates import Template, get_template
from formdesk.templates.schema import FieldType

from .refusals import Refused

FOUND_MIN = 0.5  # a proposal finding fewer of the form's fields is not this form's layout


def propose_from_file(
    code: str, data: bytes, filename: str, engine: OcrEngine | None = None
) -> tuple[Template, Proposal]:
    """The proposal for form `code` from the first page of an uploaded file (PDF, JPEG,
    PNG, TIFF).  UnknownTemplateError (404), IngestError (the file refused),
    PageOutlineError (422: no page to be seen)."""
    template = get_template(code)
    page = next(iter_pages(data, filename, IngestLimits()), None)
    if page is None:
        raise Refused("文件中没有页面")
    return template, propose_layout(page.image, template, engine or default_engine())


def found_share(template: Template, proposal: Proposal) -> float:
    """Share of the template's fields (a table counting as one) the proposal boxed."""
    total = len(template.fields)
    return (total - len(proposal.missing)) / total if total else 0.0


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
    share = found_share(template, proposal)
    if share < FOUND_MIN:
        raise Refused(
            f"只找到 {template.code} 的 {len(template.fields) - len(proposal.missing)}/"
            f"{len(template.fields)} 个栏目,这一页不像是该表单;请确认表单类型,并上传整页清晰的空白表单"
        )
    gray = cv2.cvtColor(proposal.reference, cv2.COLOR_BGR2GRAY)
    ok, png = cv2.imencode(".png", gray)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise RuntimeError("PNG encoding failed")
    reference = png.tobytes()
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


def table_label(template: Template) -> str | None:
    """The label of the form's table, if it has one."""
    return next((f.label for f in template.fields if f.type == FieldType.table), None)


__all__ = [
    "describe_missing",
    "found_share",
    "list_layouts",
    "propose_from_file",
    "register_layout",
    "remove_layout",
]
