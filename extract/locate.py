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
    # manual: reader.classify_by_hand; layout: a registered variant (reader._read_variant)
    identified_by: Literal["qr", "ocr", "manual", "layout"] | None = None
    problem: str | None = None  # why it could not be identified (Chinese)


@cache
def candidate_geometries() -> tuple[PageGeometry, ...]:
    return tuple({t.geometry for t in load_catalog().values()})


@dataclass
class PageForms:
    """The forms found on a page, and the image they were found on: the page itself, or
    the page flipped left-right when it was mirrored."""

    forms: list[LocatedForm]
    image: np.ndarray
    mirrored: bool = False


def locate_on_page(image: np.ndarray, key: bytes, engine: OcrEngine | None = None) -> PageForms:
    """`locate_forms`, and when nothing is found, again on the mirror image: a phone's
    front camera, or a scan of the sheet's back through thin paper, flips the page, and
    its marks then are no ArUco marks at all.  Flipping left-right covers an up-down
    mirror too (that is a left-right mirror turned 180°, which the marks undo)."""
    forms = locate_forms(image, key, engine)
    if forms:
        return PageForms(forms, image)
    flipped = cv2.flip(image, 1)
    gray = flipped if flipped.ndim == 2 else cv2.cvtColor(flipped, cv2.COLOR_BGR2GRAY)
    if len(detect_marks(gray)) < 3:
        return PageForms([], image)
    mirrored = locate_forms(flipped, key, engine)
    if not mirrored:
        return PageForms([], image)
    return PageForms(mirrored, flipped, mirrored=True)


def locate_forms(
    image: np.ndarray, key: bytes, engine: OcrEngine | None = None
) -> list[LocatedForm]:
    """Every form on the page.  Each readable QR anchors its form and picks the marks
    around it (so tags from different sheets, whose marks share ids, stay apart); marks
    left over are grouped by their ids and identified by OCR."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    marks = detect_marks(gray)
    if not marks:
        return []
    forms: list[LocatedForm] = []
    used: set[int] = set()
    for qr in read_qr_codes(gray):
        form = _anchor_on_qr(qr, marks, used, key)
        if form is not None:
            forms.append(form)
    groups: dict[int, list[DetectedMark]] = defaultdict(list)
    for i, mark in enumerate(marks):
        if i not in used:
            groups[mark.slot].append(mark)
    for slot, group in sorted(groups.items()):
        form = _align_group(slot, _one_per_corner(group))
        if form is None:
            continue
        if engine is None:
            form.problem = "二维码无法识读"
        else:
            _identify_by_ocr(form, image, engine)
        forms.append(form)
    return forms


def _anchor_on_qr(
    qr: FoundQr, marks: list[DetectedMark], used: set[int], key: bytes
) -> LocatedForm | None:
    try:
        decoded: DecodedIdentity | None = decode(qr.text, key)
    except IdentityFormatError:
        decoded = None
    catalog = load_catalog()
    template = catalog.get(decoded.identity.form_code) if decoded else None
    geometries = [template.geometry] if template else list(candidate_geometries())
    best: tuple[float, PageGeometry, Alignment, list[int]] | None = None
    for g in geometries:
        picked = _marks_around_qr(qr, g, marks, used)
        a = fit(g, [marks[i] for i in picked]) if len(picked) >= 3 else None
        if (
            a is not None
            and a.residual_mm <= MAX_RESIDUAL_MM
            and (best is None or a.residual_mm < best[0])
        ):
            best = (a.residual_mm, g, a, picked)
    if best is None:
        return None
    _, g, alignment, picked = best
    used.update(picked)
    form = LocatedForm(marks[picked[0]].slot, g, alignment)
    if decoded is None:
        form.problem = f"不是本系统打印的表单二维码:{qr.text[:40]!r}"
    else:
        form.identity, form.authentic, form.identified_by = (
            decoded.identity,
            decoded.authentic,
            "qr",
        )
        form.template = template
        if template is None:
            form.problem = f"二维码中的表单 {decoded.identity.form_code} 不在模板目录中"
    return form


def _marks_around_qr(
    qr: FoundQr, g: PageGeometry, marks: list[DetectedMark], used: set[int]
) -> list[int]:
    """Indexes of the marks where the QR says this form's corners should be."""
    q = g.qr_rect
    n = qr.modules + 4  # the renderer leaves two modules of quiet zone each side
    cell = q.w / n
    s = Rect(q.x + 2 * cell, q.y + 2 * cell, q.w - 4 * cell, q.h - 4 * cell)
    src = np.array(
        [[s.x, s.y], [s.right, s.y], [s.right, s.bottom], [s.x, s.bottom]], dtype=np.float64
    )
    to_image = _similarity(src, qr.corners)
    px_per_mm = np.linalg.norm(qr.corners[1] - qr.corners[0]) / s.w
    reach = 0.2 * np.hypot(g.width, g.height) * px_per_mm  # photo perspective, gang neighbours
    picked = []
    for corner, (cx, cy) in g.mark_centres().items():
        expect = to_image @ np.array([cx, cy, 1.0])
        best, best_d = None, reach
        for i, m in enumerate(marks):
            if i in used or m.corner != corner:
                continue
            d = float(np.linalg.norm(m.corners.mean(axis=0) - expect))
            if d < best_d:
                best, best_d = i, d
        if best is not None:
            picked.append(best)
    return picked


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation+scale+shift (2x3) taking `src` to `dst`.  A perspective fitted
    to the small QR would extrapolate its corner noise far across the page."""
    a = np.zeros((2 * len(src), 4))
    a[0::2] = np.column_stack([src[:, 0], -src[:, 1], np.ones(len(src)), np.zeros(len(src))])
    a[1::2] = np.column_stack([src[:, 1], src[:, 0], np.zeros(len(src)), np.ones(len(src))])
    (p, q, tx, ty), *_ = np.linalg.lstsq(a, dst.reshape(-1), rcond=None)
    return np.array([[p, -q, tx], [q, p, ty]])


def _one_per_corner(group: list[DetectedMark]) -> list[DetectedMark]:
    """Without a QR to tell them apart, keep the largest mark for each corner."""
    best: dict[int, DetectedMark] = {}
    for m in group:
        if m.marker_id not in best or _area(m) > _area(best[m.marker_id]):
            best[m.marker_id] = m
    return list(best.values())


def _area(m: DetectedMark) -> float:
    return float(cv2.contourArea(m.corners.astype(np.float32)))


def _align_group(slot: int, marks: list[DetectedMark]) -> LocatedForm | None:
    best: tuple[float, PageGeometry, Alignment] | None = None
    for g in candidate_geometries():
        a = fit(g, marks)
        if a is not None and (best is None or a.residual_mm < best[0]):
            best = (a.residual_mm, g, a)
    if best is None or best[0] > MAX_RESIDUAL_MM:
        return None
    return LocatedForm(slot, best[1], best[2])


def _identify_by_ocr(form: LocatedForm, image: np.ndarray, engine: OcrEngine) -> None:
    """Reads the printed form code (header) and 文档号/页码 (footer) when the QR is lost."""
    g = form.geometry
    header = g.header_rect
    code_strip = Rect(header.x, header.y, header.w, 5.0)  # the form code line
    f = g.footer_rect
    footer_line = Rect(f.x, f.bottom - 5.0, f.w, 4.6)  # where the renderer prints 文档号 … 第 n 页
    texts = engine.recognize(
        [_cut(image, form.alignment, code_strip), _cut(image, form.alignment, footer_line)]
    )
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
    form.identity = PageIdentity(
        form.template.code, form.template.version, doc[1] if doc else "", page, total
    )
    form.authentic = None  # without the QR the signature cannot be checked


def _cut(image: np.ndarray, alignment: Alignment, r: Rect) -> np.ndarray:
    """A region of the form (mm), warped flat at the canonical resolution."""
    w, h = round(r.w * PX_PER_MM), round(r.h * PX_PER_MM)
    shift = np.array([[1, 0, r.x], [0, 1, r.y], [0, 0, 1]], dtype=np.float64)
    m = np.diag([PX_PER_MM, PX_PER_MM, 1.0]) @ np.linalg.inv(alignment.to_image @ shift)
    return cv2.warpPerspective(image, m, (w, h), borderValue=(255, 255, 255))


TITLE_BAND = 0.2  # the top share of a page where forms print their code and title
# RapidOCR's detector enlarges an image whose shorter side is below this (limit_side_len):
# the title band is padded to it with paper instead, which costs less
DET_MIN_SIDE = 736


def recognise_unmarked(image: np.ndarray, engine: OcrEngine) -> Template | None:
    """Page OCR, the fallback for a page without marks: is it one of our forms (printed
    elsewhere, or photocopied without its corners)?  The top TITLE_BAND of the page,
    where forms print their code and title, is read first (a fraction of the time), the
    whole page only when that names no form."""
    scale = min(1.0, 1600 / max(image.shape[:2]))
    small = (
        cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if scale < 1
        else image
    )
    top = small[: max(1, int(TITLE_BAND * small.shape[0]))]
    if top.shape[0] < DET_MIN_SIDE <= small.shape[0]:  # paper below, rather than enlarged
        top = cv2.copyMakeBorder(
            top, 0, DET_MIN_SIDE - top.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=(255,) * 3
        )
    return _named(engine, top) or _named(engine, small)


def _named(engine: OcrEngine, image: np.ndarray) -> Template | None:
    return _naming("".join(line.text for line in engine.read_page(image)))


def _naming(text: str) -> Template | None:
    """The first catalog form whose code, or title of five characters or more, `text`
    holds (spaces ignored, the seed's long dash read as '-')."""
    return _named_by(text)[0]


def _named_by(text: str) -> tuple[Template | None, bool]:
    """`_naming`, and whether `text` is that form's title line: its title with at most
    TITLE_EXTRA characters more (XX维修站…), no code (a sentence of the form's notes that
    names another form is no title line)."""
    text = re.sub(r"\s+", "", text)
    text = re.sub("[—–]", "-", text)  # SH-ZH/BD—27 as the seed prints it
    for t in load_catalog().values():
        if t.code in text.upper():
            return t, False
        if len(t.title) >= 5 and t.title in text:
            return t, len(text) <= len(t.title) + TITLE_EXTRA
    return None, False


TITLE_EXTRA = 6


def _one_figure_off(a: str, b: str) -> bool:
    """Whether two form codes differ in exactly one character (SH-ZH/BD-27, SH-ZH/BD-21)."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def named_around(
    image: np.ndarray, quads: tuple[np.ndarray, ...], engine: OcrEngine
) -> Template | None:
    """The form whose frames are `quads` (px of `image`, TL, TR, BR, BL each) in an image
    holding other forms too: `image` is the part around them (BGR).  The bands above,
    below, left and right of the frames (where a form prints its code and title, upright,
    upside down or sideways) are OCR'd in that order, each at its own size, until one
    holds a line naming a form (code or title) that stands over the frames' span — a
    neighbour's title may lie in the band too, but beside that span; the nearest such
    line names the form.  Failing that, the nearest naming line anywhere, then each
    band's lines read together; None when nothing names one."""
    h, w = image.shape[:2]
    corners = np.concatenate([q.reshape(-1, 2) for q in quads])
    fx0, fy0 = np.clip(corners.min(axis=0).astype(int), 0, [w, h])
    fx1, fy1 = np.clip(np.ceil(corners.max(axis=0)).astype(int), 0, [w, h])
    # (x0, y0, x1, y1) of each band, and the axis its lines must stand within the span of
    bands = (((0, 0, w, fy0), 0), ((0, fy1, w, h), 0), ((0, fy0, fx0, fy1), 1),
             ((fx1, fy0, w, fy1), 1))  # fmt: skip
    span = ((fx0, fx1), (fy0, fy1))
    anywhere: tuple[float, Template] | None = None
    texts = []
    for (x0, y0, x1, y1), axis in bands:
        if x1 - x0 < BAND_MIN_PX or y1 - y0 < BAND_MIN_PX:
            continue
        over: tuple[float, Template] | None = None
        titled: tuple[float, Template] | None = None  # the nearest named by its title
        texts.append("")
        for text, (cx, cy) in _band_lines(image[y0:y1, x0:x1], engine):
            texts[-1] += text
            t, by_title = _named_by(text)
            if t is None:
                continue
            cx, cy = cx + x0, cy + y0
            d = min(
                abs(cv2.pointPolygonTest(q.astype(np.float32).reshape(-1, 1, 2),
                                         (float(cx), float(cy)), True))
                for q in quads
            )  # fmt: skip
            if anywhere is None or d < anywhere[0]:
                anywhere = (d, t)
            lo, hi = span[axis]
            if lo <= (cx, cy)[axis] <= hi and (over is None or d < over[0]):
                over = (d, t)
            if lo <= (cx, cy)[axis] <= hi and by_title and (titled is None or d < titled[0]):
                titled = (d, t)
        if over is not None:
            # a code is one figure from another (SH-ZH/BD-27 read BD-21 in a photo): a
            # title line over the same span naming the form one figure off is the surer
            # witness (never a title naming an unlike code: a neighbour's may lie there)
            if titled is not None and _one_figure_off(titled[1].code, over[1].code):
                return titled[1]
            return over[1]
    if anywhere:
        return anywhere[1]
    # a code or title OCR split into lines; never joined across bands (SH-ZH/BD-2 above
    # a tag and a stray 1 below it named BD-21)
    return next((t for t in map(_naming, texts) if t is not None), None)


def _band_lines(band: np.ndarray, engine: OcrEngine) -> list[tuple[str, tuple[float, float]]]:
    """The lines OCR reads in `band` (BGR), each with its centre (px of `band`): the band
    made at most BAND_MAX_PX long, and padded with paper to DET_MIN_SIDE across (the
    detector would otherwise enlarge a thin band to that, at many times the cost)."""
    scale = min(1.0, BAND_MAX_PX / max(band.shape[:2]))
    if scale < 1:
        band = cv2.resize(band, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    bh, bw = band.shape[:2]
    band = cv2.copyMakeBorder(
        band, 0, max(0, DET_MIN_SIDE - bh), 0, max(0, DET_MIN_SIDE - bw), cv2.BORDER_CONSTANT,
        value=(255, 255, 255),
    )  # fmt: skip
    out = []
    for line in engine.read_page(band):
        cx, cy = line.box.reshape(-1, 2).mean(axis=0) / scale
        out.append((line.text, (float(cx), float(cy))))
    return out


BAND_MIN_PX = 16  # a band around frames narrower than this holds no line of print
BAND_MAX_PX = 2000  # … and one longer is OCR'd at this size
