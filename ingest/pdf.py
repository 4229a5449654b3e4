"""PDF pages through PDFium: cheap checks first, then one page rasterised at a time.

Before PDFium sees a page, the file's object count is counted in its raw bytes
(`pdf_objects`) and every page's content is measured with pypdf (`pdf_budget`): a file of a
few KB can otherwise ask for gigabytes (see `IngestLimits`).

PDFium is not thread-safe, not even across different documents, and the web service
reads uploads on worker threads; every PDFium call here holds `_PDFIUM_LOCK`.  The lock
is taken per page, never across a `yield`, so one slow consumer does not block others.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import threading
from collections.abc import Iterator

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .errors import IngestError
from .limits import IngestLimits
from .pages import PageChar, PageImage
from .pdf_budget import PdfBudget
from .pdf_objects import check_object_count

PT_PER_INCH = 72
MM_PER_PT = 25.4 / 72

ENCRYPTED = "PDF 已加密,无法读取"
CORRUPT = "PDF 文件损坏或不完整"

# formdesk signs the PDFs it prints in this document information entry (see
# templates/identity.py); a text layer is trusted only on such a PDF.
ISSUER_KEY = "FormdeskIssue"
MAX_ISSUER_MARK = 400_000

_PDFIUM_LOCK = threading.RLock()


def pdf_page_count(data: bytes, limits: IngestLimits) -> int:
    """Checks the object count, opens the document (no page is loaded), checks encryption,
    page count and sizes, then every page's content budgets. IngestError when refused."""
    return len(_checked(data, limits))


def _checked(data: bytes, limits: IngestLimits) -> list[float]:
    """Every check of `pdf_page_count`; each page's /UserUnit (1.0 for most files)."""
    check_object_count(data, limits.max_pdf_objects)
    with _PDFIUM_LOCK:
        doc = _open(data)
        try:
            n = _page_count(doc, limits)
            sizes = [_page_size(doc, index) for index in range(n)]
        finally:
            doc.close()
    budget = PdfBudget(data, limits)
    units = [budget.user_unit(index) for index in range(n)]
    _check_sizes(sizes, units, limits)
    for index in range(n):
        budget.check_page(index)
    return units


def iter_pdf_pages(
    data: bytes, source: str, limits: IngestLimits, first: int = 0
) -> Iterator[PageImage]:
    """Each page at `limits.dpi`, in colour (stamps and seals are often red), as a viewer
    shows it: /Rotate, the CropBox and /UserUnit applied, annotations and filled form
    fields drawn.  A page with text carries its text layer placed by the same transform.

    Every check of `pdf_page_count` runs here, at the call, before the iterator is
    returned: a refused file raises before its first page is rendered.  Pages before
    `first` (0-based) are not rendered."""
    units = _checked(data, limits)
    return _rendered(data, units, source, limits, first)


def _rendered(
    data: bytes, units: list[float], source: str, limits: IngestLimits, first: int = 0
) -> Iterator[PageImage]:
    with _PDFIUM_LOCK:
        doc = _open(data)
        mark = _issuer_mark(doc)
    try:
        for index, unit in enumerate(units):
            if index < first:
                continue
            with _PDFIUM_LOCK:
                page = _render(doc, index, unit, source, limits)
            page.issuer_mark = mark
            yield page
    finally:
        with _PDFIUM_LOCK:
            doc.close()


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # A PDF encrypted with an empty user password opens without one, so a password
        # error means the user really would have to type one.
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise IngestError(ENCRYPTED) from None
        raise IngestError(CORRUPT) from None
    # Renders the values of fillable fields; must come before any page is loaded.  A broken
    # AcroForm or XFA form is no reason to refuse: the page content still renders.
    with contextlib.suppress(Exception):
        doc.init_forms()
    return doc


def _page_count(doc: pdfium.PdfDocument, limits: IngestLimits) -> int:
    n = len(doc)
    if n < 1:
        raise IngestError("PDF 没有任何页面")
    if n > limits.max_pages:
        raise IngestError(f"页数过多({n} 页,上限 {limits.max_pages} 页)")
    return n


def _page_size(doc: pdfium.PdfDocument, index: int) -> tuple[float, float]:
    """(width, height) in points, as PDFium shows the page (CropBox, /Rotate)."""
    try:
        return doc.get_page_size(index)
    except pdfium.PdfiumError:
        raise IngestError(CORRUPT) from None


def _check_sizes(
    sizes: list[tuple[float, float]], units: list[float], limits: IngestLimits
) -> None:
    """IngestError when a page, /UserUnit applied, is broken or too big to rasterise."""
    for index, ((w_pt, h_pt), unit) in enumerate(zip(sizes, units, strict=True)):
        w_pt, h_pt = w_pt * unit, h_pt * unit
        if not (w_pt > 0 and h_pt > 0 and math.isfinite(w_pt * h_pt)):
            raise IngestError(CORRUPT)
        w_px, h_px = _pixels(w_pt, limits.dpi), _pixels(h_pt, limits.dpi)
        if w_px * h_px > limits.max_pixels:
            raise IngestError(
                f"PDF 第 {index + 1} 页尺寸过大({w_pt * MM_PER_PT:.0f}×{h_pt * MM_PER_PT:.0f} 毫米,"
                f"按 {limits.dpi} dpi 为 {w_px}×{h_px} 像素)"
            )


def _pixels(points: float, dpi: int) -> int:
    return math.ceil(points * dpi / PT_PER_INCH)


def _render(
    doc: pdfium.PdfDocument, index: int, unit: float, source: str, limits: IngestLimits
) -> PageImage:
    try:
        page = doc[index]
    except pdfium.PdfiumError:
        raise IngestError(f"{CORRUPT}(第 {index + 1} 页无法读取)") from None
    try:
        _check_embedded_images(page, index, limits)
        text_layer = _has_text(page, index, limits)
        try:
            bitmap = page.render(scale=limits.dpi / PT_PER_INCH * unit, draw_annots=True)
        except pdfium.PdfiumError:
            raise IngestError(f"{CORRUPT}(第 {index + 1} 页无法栅格化)") from None
        try:
            image = np.array(bitmap.to_numpy(), dtype=np.uint8)  # copy: the buffer is freed below
        finally:
            bitmap.close()
        chars = _placed_chars(page, image.shape[1], image.shape[0]) if text_layer else ()
    finally:
        page.close()
    if image.ndim == 2:  # PDFium may pick a grey format; the reader expects three channels
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.shape[2] == 4:
        image = np.ascontiguousarray(image[:, :, :3])
    return PageImage(source, index, image, float(limits.dpi), text_layer, chars)


def _placed_chars(page: pdfium.PdfPage, width: int, height: int) -> tuple[PageChar, ...]:
    """The page's characters with their boxes in the bitmap's pixels.  PDFium's own
    page-to-device transform for a bitmap of this size (the one rendering used: the
    page's /Rotate and CropBox included) is sampled at three points; it is affine."""
    to_device = _page_to_device(page, width, height)
    textpage = page.get_textpage()
    try:
        out = []
        for i in range(textpage.count_chars()):
            if pdfium_c.FPDFText_IsGenerated(textpage, i) == 1:
                continue
            ch = chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 0x20)
            if not ch.strip() or not ch.isprintable() or not _drawn(textpage, i):
                continue
            left, bottom, right, top = textpage.get_charbox(i)
            corners = np.array(
                [[left, bottom, 1], [right, bottom, 1], [right, top, 1], [left, top, 1]]
            )
            xy = corners @ to_device.T
            (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
            out.append(PageChar(ch, float(x0), float(y0), float(x1), float(y1)))
        return tuple(out)
    finally:
        textpage.close()


# text render modes that paint nothing (ISO 32000-1, 9.3.6): invisible, and clip only
_UNPAINTED = {pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE, pdfium_c.FPDF_TEXTRENDERMODE_CLIP}


def _drawn(textpage: pdfium.PdfTextPage, i: int) -> bool:
    """Whether character i paints anything: not invisible (a scanner's OCR layer) and
    not white on white."""
    obj = pdfium_c.FPDFText_GetTextObject(textpage, i)
    if obj and pdfium_c.FPDFTextObj_GetTextRenderMode(obj) in _UNPAINTED:
        return False
    r, g, b, a = (ctypes.c_uint() for _ in range(4))
    painted = pdfium_c.FPDFText_GetFillColor(textpage, i, r, g, b, a)
    return not (painted and (a.value == 0 or min(r.value, g.value, b.value) >= 250))


def _page_to_device(page: pdfium.PdfPage, width: int, height: int) -> np.ndarray:
    """2x3 affine from PDF page space (points, y up) to bitmap pixels (y down)."""
    dx, dy = ctypes.c_int(), ctypes.c_int()
    src, dst = [], []
    for x, y in ((0.0, 0.0), (1000.0, 0.0), (0.0, 1000.0)):
        pdfium_c.FPDF_PageToDevice(page, 0, 0, width, height, 0, x, y, dx, dy)
        src.append((x, y))
        dst.append((dx.value, dy.value))
    a = np.array([[sx, sy, 1.0] for sx, sy in src])
    return np.linalg.solve(a, np.array(dst, dtype=np.float64)).T


def _issuer_mark(doc: pdfium.PdfDocument) -> str | None:
    """The document information entry formdesk signs its own PDFs with (unverified here:
    the reader holds the key).  Ignored when absurdly long."""
    try:
        text = doc.get_metadata_value(ISSUER_KEY)
    except Exception:  # a broken /Info is no reason to refuse the page content
        return None
    return text if text and len(text) <= MAX_ISSUER_MARK else None


def _check_embedded_images(page: pdfium.PdfPage, index: int, limits: IngestLimits) -> None:
    """A page of normal size can still hold a 100 000 × 100 000 image that PDFium would
    decode in full; the dimensions come from the image's dictionary, nothing is decoded.
    Images inside form XObjects count too; those in patterns or annotations are not seen."""
    try:
        sizes = [_px_size(obj) for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])]
    except pdfium.PdfiumError:
        raise IngestError(f"{CORRUPT}(第 {index + 1} 页无法读取)") from None
    for w, h in sizes:
        if w * h > limits.max_pixels:
            raise IngestError(f"PDF 第 {index + 1} 页内嵌图片尺寸过大({w}×{h} 像素),可能是解压炸弹")


def _px_size(image: pdfium.PdfImage) -> tuple[int, int]:
    try:
        return image.get_px_size()
    except pdfium.PdfiumError:
        return 0, 0  # PDFium will skip an image it cannot read


def _has_text(page: pdfium.PdfPage, index: int, limits: IngestLimits) -> bool:
    """Whether the page shows any text; IngestError when it shows more characters than
    `limits.max_page_chars` (a second guard: the content budget already bounds them, and
    PDFium cuts a string at 32,767 characters where pdfplumber does not)."""
    textpage = page.get_textpage()
    try:
        n = textpage.count_chars()
        if n > limits.max_page_chars:
            raise IngestError(
                f"PDF 第 {index + 1} 页文字过多({n} 个字符,上限 {limits.max_page_chars} 个)"
            )
        return n > 0 and bool(textpage.get_text_range().strip())
    finally:
        textpage.close()
