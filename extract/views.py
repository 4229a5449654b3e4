"""Images for reviewers: a read form warped flat again, and a field's crop of it."""

from __future__ import annotations

import numpy as np

from formdesk.ingest import IngestLimits, iter_pages
from formdesk.templates import get_template

from .align import PX_PER_MM, rectify
from .beside import MIXED_SLOT, frames_beside, page_forms
from .locate import locate_on_page
from .ocr import OcrEngine
from .variants import LayoutMismatch, RegisteredLayout, turned_frame, upright_forms


def aligned_form(
    data: bytes,
    filename: str,
    file_page: int,
    document_id: str,
    key: bytes,
    engine: OcrEngine | None = None,
    limits: IngestLimits | None = None,
) -> np.ndarray | None:
    """The form `document_id` on page `file_page` of the scan, rectified (BGR, 200 dpi)."""
    for page in iter_pages(data, filename, limits or IngestLimits()):
        if page.index != file_page:
            continue
        found = locate_on_page(page.image, key, engine)
        for form in found.forms:
            if form.identity and form.identity.document_id == document_id and form.template:
                return rectify(
                    found.image, get_template(form.template.code).geometry, form.alignment
                )
        return None
    return None


def raw_page(
    data: bytes, filename: str, file_page: int, limits: IngestLimits | None = None
) -> np.ndarray | None:
    """Page `file_page` (0-based) of the file as the reader gets it (BGR; a PDF page at
    200 dpi, an image at its own size); None when the file has no such page."""
    for page in iter_pages(data, filename, limits or IngestLimits()):
        if page.index == file_page:
            return page.image
    return None


def variant_form(
    data: bytes,
    filename: str,
    file_page: int,
    code: str,
    layout: RegisteredLayout,
    limits: IngestLimits | None = None,
    slot: int = 0,
    key: bytes | None = None,
    engine: OcrEngine | None = None,
) -> np.ndarray | None:
    """Page `file_page` of the scan, a page of form `code` without marks read as variant
    `layout` (the form of `slot` when the page holds several, or one small form on a
    bigger ground, turned upright: variants.upright_forms), aligned on the variant's reference as the
    reader aligned it: BGR, 200 dpi, the reference's size.  With the installation's `key`,
    a form lying beside formdesk's own on the page (beside.frames_beside: its slot after
    theirs) is found as the reader found it.  None when the file has no such page or the
    page no such form; LayoutMismatch or PageOutlineError (Chinese reasons) when the form
    no longer aligns on it."""
    image = raw_page(data, filename, file_page, limits)
    if image is None:
        return None
    if key is not None:
        found = locate_on_page(image, key, engine)
        own = found.forms
        if own and not found.mirrored:
            beside = next((b for b in frames_beside(image, own) if b.slot == slot), None)
            if beside is None:
                return None
            aligned, why = turned_frame(beside.image, get_template(code), [layout], beside.frame)
            if aligned is None:
                raise LayoutMismatch(why or "这份表单无法对齐")
            return aligned.flat
    if slot >= MIXED_SLOT:  # one of different forms without marks on the page
        forms = page_forms(image)
        if slot - MIXED_SLOT >= len(forms):
            return None
        form = forms[slot - MIXED_SLOT]
        aligned, why = turned_frame(form.image, get_template(code), [layout], form.frame)
        if aligned is None:
            raise LayoutMismatch(why or "这份表单无法对齐")
        return aligned.flat
    placed, _turn = upright_forms(image, get_template(code), [layout], only=slot)
    form = next((p for p in placed if p.slot == slot), None)
    if form is None:
        return None
    if form.page is None:
        raise LayoutMismatch(form.problem or "这份表单无法对齐")
    return form.page.flat


def crop_mm(image: np.ndarray, box: list[float], margin_mm: float = 1.0) -> np.ndarray:
    x, y, w, h = box
    x0, y0 = max(0, round((x - margin_mm) * PX_PER_MM)), max(0, round((y - margin_mm) * PX_PER_MM))
    x1 = min(image.shape[1], round((x + w + margin_mm) * PX_PER_MM))
    y1 = min(image.shape[0], round((y + h + margin_mm) * PX_PER_MM))
    return image[y0:y1, x0:x1]
