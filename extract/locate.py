"""Finding the forms on a page image and telling which form, document and page each is.

Marks are grouped by gang slot (each slot has its own four marker ids), each group is
aligned, and the QR inside the group names the document.  When the QR cannot be read,
the printed form code and the footer's document number are read by OCR instead.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Literal

import cv2
import numpy as np
from rapidfuzz import fuzz, process

from formdesk.templates import Template, load_catalog
from formdesk.templates.geometry import PageGeometry, Rect
from formdesk.templates.identity import DecodedIdentity, IdentityFormatError, PageIdentity, decode

from .align import PX_PER_MM, Alignment, fit
from .marks import DetectedMark, detect_marks
from .ocr import OcrEngine
from .qr import FoundQr, read_qr_codes

MAX_RESIDUAL_MM = 2.5  # worse than this, the marks do not belong to one flat form


@dataclass
class LocatedForm:
    slot: int
    geometry: PageGeometry
    alignment: Alignment
    template: Template | None = None
    identity: PageIdentity | None = None
    authentic: bool | None = None  # the QR's signature is this installation's
    identified_by: Literal["qr", "ocr"] | None = None
    problem: str | None = None  # why it could not be identified (Chinese)


@cache
def candidate_geometries() -> tuple[PageGeometry, ...]:
    return tuple({t.geometry for t in load_catalog().values()})


def locate_forms(image: np.ndarray, key: bytes, engine: OcrEngine | None = None) -> list[LocatedForm]:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    groups: dict[int, list[DetectedMark]] = defaultdict(list)
    for mark in detect_marks(gray):
        groups[mark.slot].append(mark)
    qrs = read_qr_codes(gray) if groups else []
    forms = []
    for slot, marks in sorted(groups.items()):
        form = _align_group(slot, marks)
        if form is None:
            continue
        _identify(form, qrs, key, image, engine)
        forms.append(form)
    return forms


def _align_group(slot: int, marks: list[DetectedMark]) -> LocatedForm | None:
    best: tuple[float, PageGeometry, Alignment] | None = None
    for g in candidate_geometries():
        a = fit(g, marks)
        if a is not None and (best is None or a.residual_mm < best[0]):
            best = (a.residual_mm, g, a)
    if best is None or best[0] > MAX_RESIDUAL_MM:
        return None
    return LocatedForm(slot, best[1], best[2])


def _identify(form: LocatedForm, qrs: list[FoundQr], key: bytes, image: np.ndarray,
              engine: OcrEngine | None) -> None:
    catalog = load_catalog()
    qr_zone = form.geometry.qr_rect.inset(-6.0)
    for qr in qrs:
        x, y = form.alignment.to_form_mm(qr.centre)
        if not (qr_zone.x <= x <= qr_zone.right and qr_zone.y <= y <= qr_zone.bottom):
            continue
        try:
            decoded: DecodedIdentity = decode(qr.text, key)
        except IdentityFormatError as exc:
            form.problem = str(exc)
            return
        form.identity, form.authentic, form.identified_by = decoded.identity, decoded.authentic, "qr"
        form.template = catalog.get(decoded.identity.form_code)
        if form.template is None:
            form.problem = f"二维码中的表单 {decoded.identity.form_code} 不在模板目录中"
        elif form.template.geometry != form.geometry:
            form.problem = f"页面尺寸与模板 {form.template.code} 不符"
            form.template = None
        return
    if engine is None:
        form.problem = "二维码无法识读"
        return
    _identify_by_ocr(form, image, engine)


def _identify_by_ocr(form: LocatedForm, image: np.ndarray, engine: OcrEngine) -> None:
    """Reads the printed form code (header) and 文档号/页码 (footer) when the QR is lost."""
    g = form.geometry
    header = g.header_rect
    code_strip = Rect(header.x, header.y, header.w, 5.0)  # the form code line
    f = g.footer_rect
    footer_line = Rect(f.x, f.bottom - 5.0, f.w, 4.6)  # where the renderer prints 文档号 … 第 n 页
    texts = engine.recognize([_cut(image, form.alignment, code_strip), _cut(image, form.alignment, footer_line)])
    candidates = {t.code: t for t in load_catalog().values() if t.geometry == g}
    code_text = re.sub(r"\s+", "", texts[0].text).upper().replace("—", "-")
    match = process.extractOne(code_text, list(candidates), scorer=fuzz.ratio, score_cutoff=80)
    if match is None:
        form.problem = f"二维码无法识读,印刷的表单代码也无法识别(读到 {texts[0].text!r})"
        return
    form.template = candidates[match[0]]
    form.identified_by = "ocr"
    footer = re.sub(r"\s+", "", texts[1].text)
    doc = re.search(r"(\d{6}-[0-9A-F]{10})", footer.upper())
    pages = re.search(r"第(\d+)页/共(\d+)页", footer)
    page, total = (int(pages[1]), int(pages[2])) if pages else (1, 1)
    form.identity = PageIdentity(form.template.code, form.template.version,
                                 doc[1] if doc else "", page, total)
    form.authentic = None  # without the QR the signature cannot be checked


def _cut(image: np.ndarray, alignment: Alignment, r: Rect) -> np.ndarray:
    """A region of the form (mm), warped flat at the canonical resolution."""
    w, h = round(r.w * PX_PER_MM), round(r.h * PX_PER_MM)
    shift = np.array([[1, 0, r.x], [0, 1, r.y], [0, 0, 1]], dtype=np.float64)
    m = np.diag([PX_PER_MM, PX_PER_MM, 1.0]) @ np.linalg.inv(alignment.to_image @ shift)
    return cv2.warpPerspective(image, m, (w, h), borderValue=(255, 255, 255))
