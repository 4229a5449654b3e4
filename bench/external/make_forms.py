"""Typesets the external layouts (forms.py) as Word documents with python-docx, converts
them to PDF with LibreOffice, and writes where every field's writing area truly is.

    python bench/external/make_forms.py [--out tests/data/external]

Writes, per form, NAME.docx (kept out of git), NAME.pdf (the blank, committed) and
NAME.json (the truth: paper mm, each field's box and each table column's body strip in mm
of the page, origin top-left).  Needs `soffice` (libreoffice-writer) and the fonts the
forms name (fonts-noto-cjk, fonts-arphic-ukai); the tests only need the committed PDFs.

The truth is measured, not assumed: each table's outer frame is found on the PDF's raster
(its left border, a vertical line as tall as the table), the cells follow from the exact
widths and heights typeset; every ruled line the spec implies is checked on the raster
(within TOLERANCE_MM) and the label end of a LabelValue cell is read from the PDF's text.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from forms import FORMS, ExternalForm, Header, Label, LabelValue, Options, Table, Value  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DPI = 200
PX = DPI / 25.4  # px per mm
TOLERANCE_MM = 0.6


# -- the Word document ---------------------------------------------------------------------------
def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _paragraph(doc, text: str, font: str, size: float, align, bold=False, after_mm=1.0):
    p = doc.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_before = Pt(0)
    p.paragraph_format.space_after = Mm(after_mm)
    _font(p.add_run(text), font, size, bold)
    return p


def _borders(table) -> None:
    """Single 0.5 pt lines around and between every cell."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.append(borders)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)


def _cuts(table: Table) -> list[float]:
    """Every x (mm from the table's left) where some row has a vertical line."""
    xs = {0.0}
    for row in table.rows:
        x = 0.0
        for w, _ in row.cells:
            x += w
            xs.add(round(x, 3))
    return sorted(xs)


def _cell_text(content) -> str:
    if isinstance(content, Label | LabelValue | Options | Header):
        return content.text
    return ""


def _add_table(doc, form: ExternalForm, table: Table) -> None:
    cuts = _cuts(table)
    grid = [b - a for a, b in zip(cuts, cuts[1:], strict=False)]
    n_rows = len(table.rows) + table.body_rows
    t = doc.add_table(rows=n_rows, cols=len(grid))
    t.alignment = WD_TABLE_ALIGNMENT.LEFT
    t.autofit = False
    _borders(t)
    for i, w in enumerate(grid):
        t.columns[i].width = Mm(w)
        for cell in t.columns[i].cells:
            cell.width = Mm(w)
    header = table.rows[-1] if table.body_rows else None
    rows = list(table.rows) + [None] * table.body_rows
    for r, spec in enumerate(rows):
        row = t.rows[r]
        row.height = Mm(spec.height if spec else table.body_height)
        row.height_rule = WD_ROW_HEIGHT_RULE.EXACTLY
        cells = spec.cells if spec else header.cells
        x = 0.0
        for w, content in cells:
            a, b = cuts.index(round(x, 3)), cuts.index(round(x + w, 3))
            cell = row.cells[a]
            if b - a > 1:
                cell = cell.merge(row.cells[b - 1])
            x += w
            text = _cell_text(content) if spec else ""
            p = cell.paragraphs[0]
            p.paragraph_format.space_after = Pt(0)
            p.paragraph_format.space_before = Pt(0)
            if isinstance(content, Header | Options) or (isinstance(content, Label) and w > 60):
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if text:
                _font(p.add_run(text), form.font, form.size_pt, bold=isinstance(content, Header))
            cell.vertical_alignment = 1  # centre


def build_docx(form: ExternalForm, path: Path) -> None:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(form.paper[0]), Mm(form.paper[1])
    top, right, bottom, left = form.margins
    section.top_margin, section.right_margin = Mm(top), Mm(right)
    section.bottom_margin, section.left_margin = Mm(bottom), Mm(left)
    _paragraph(doc, form.code_text, form.font, 7.5, WD_ALIGN_PARAGRAPH.RIGHT, after_mm=0.5)
    _paragraph(doc, form.title, form.title_font, form.title_pt, WD_ALIGN_PARAGRAPH.CENTER,
               bold=True, after_mm=3.0)  # fmt: skip
    for i, table in enumerate(form.tables):
        if i:
            p = _paragraph(doc, "", form.font, 6, WD_ALIGN_PARAGRAPH.LEFT, after_mm=0)
            p.paragraph_format.line_spacing = Mm(form.gap_mm)
        _add_table(doc, form, table)
    for note in form.notes:
        _paragraph(doc, note, form.font, 7.5, WD_ALIGN_PARAGRAPH.LEFT, after_mm=0.5)
    doc.save(path)


def to_pdf(docx: Path, out_dir: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("需要 LibreOffice(apt-get install libreoffice-writer-nogui)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless",
             "--convert-to", "pdf", "--outdir", str(out_dir), str(docx)],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    return out_dir / (docx.stem + ".pdf")


# -- the truth ---------------------------------------------------------------------------------
def _raster(pdf: Path) -> np.ndarray:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        if len(doc) != 1:
            raise SystemExit(f"{pdf.name}: {len(doc)} pages, expected 1")
        img = doc[0].render(scale=DPI / 72, grayscale=True).to_numpy()
    finally:
        doc.close()
    return img if img.ndim == 2 else img[..., 0]


def _table_origins(gray: np.ndarray, form: ExternalForm) -> list[tuple[float, float]]:
    """Top-left corner (mm) of each table's frame: the top of its left border, a vertical
    line as tall as the table, the tables in page order."""
    dark = (gray < 140).astype(np.uint8)
    vertical = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((int(4 * PX), 1), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(vertical)
    found = sorted(
        (stats[i, cv2.CC_STAT_TOP], stats[i, cv2.CC_STAT_LEFT], stats[i, cv2.CC_STAT_HEIGHT],
         stats[i, cv2.CC_STAT_WIDTH])
        for i in range(1, n)
    )  # fmt: skip
    origins = []
    left_margin = form.margins[3]
    for table in form.tables:
        want = table.height * PX
        hits = [
            (y, x, w)
            for y, x, h, w in found
            if abs(h - want) < 1.5 * PX and abs(x / PX - left_margin) < 5
            and all(abs(y / PX - oy) > 2 for _, oy in origins)
        ]  # fmt: skip
        if not hits:
            raise SystemExit(f"{form.name}: no frame {table.height:.1f} mm tall found")
        y, x, w = min(hits)
        origins.append(((x + (w - 1) / 2) / PX, (y + 0.5) / PX))
    return origins


def _check_lines(gray: np.ndarray, form: ExternalForm, table: Table, ox: float, oy: float):
    """Every horizontal line the spec puts between rows, and every vertical line of each
    row, is on the raster within TOLERANCE_MM; raises otherwise."""
    dark = gray < 140
    worst = 0.0

    def near_dark(x_mm: float, y_mm: float, axis: str) -> float:
        tol = int(2.5 * PX)
        cx, cy = int(round(x_mm * PX)), int(round(y_mm * PX))
        if axis == "h":
            column = dark[cy - tol : cy + tol + 1, cx]
            hits = np.nonzero(column)[0]
            return min((abs(h - tol) for h in hits), default=99 * PX) / PX
        row = dark[cy, cx - tol : cx + tol + 1]
        hits = np.nonzero(row)[0]
        return min((abs(h - tol) for h in hits), default=99 * PX) / PX

    y = oy
    heights = [r.height for r in table.rows] + [table.body_height] * table.body_rows
    cells_of = [r.cells for r in table.rows] + [table.rows[-1].cells] * table.body_rows
    for h, cells in zip(heights, cells_of, strict=True):
        mid = y + h / 2
        x = ox
        for w, _ in cells:
            worst = max(worst, near_dark(x, mid, "v"), near_dark(x + w / 2, y, "h"))
            x += w
        worst = max(worst, near_dark(x, mid, "v"))
        y += h
    worst = max(worst, near_dark(ox + 3, y, "h"))
    if worst > TOLERANCE_MM:
        raise SystemExit(f"{form.name}: a ruled line is {worst:.2f} mm from where the spec puts it")
    return worst


def _label_ends(pdf: Path, page_h_mm: float) -> dict[str, tuple[float, float]]:
    """(x of the right edge, y of the middle), mm, of every label text on the page."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        tp = doc[0].get_textpage()
        n = tp.count_chars()
        chars, boxes = [], []
        k = 25.4 / 72
        for i in range(n):
            ch = tp.get_text_range(i, 1)
            left, bottom, right, top = tp.get_charbox(i)
            chars.append((ch, right * k, page_h_mm - (top + bottom) / 2 * k))
            boxes.append((left * k, page_h_mm - top * k, right * k, page_h_mm - bottom * k))
        tp.close()
    finally:
        doc.close()
    text = "".join(c[0] for c in chars)
    return {"text": text, "chars": chars, "boxes": boxes}  # type: ignore[return-value]


def _label_end(info, label: str, y_mm: float, y_h: float) -> float:
    """The right edge (mm) of `label` printed between y_mm and y_mm + y_h."""
    text, chars = info["text"], info["chars"]
    start = text.find(label)
    while start >= 0:
        last = chars[start + len(label) - 1]
        if y_mm <= last[2] <= y_mm + y_h:
            return last[1]
        start = text.find(label, start + 1)
    raise SystemExit(f"label {label!r} not found in the PDF's text near y={y_mm:.1f} mm")


def _text_box(info, text: str, cell: list[float]) -> list[float] | None:
    """The box (mm) of `text` printed inside `cell` (x, y, w, h mm), from the PDF's text."""
    x, y, w, h = cell
    full, boxes = info["text"], info["boxes"]
    start = full.find(text)
    while start >= 0:
        span = boxes[start : start + len(text)]
        x0, x1 = min(b[0] for b in span), max(b[2] for b in span)
        y0, y1 = min(b[1] for b in span), max(b[3] for b in span)
        if x <= x0 and x1 <= x + w and y <= (y0 + y1) / 2 <= y + h:
            return [x0, y0, x1 - x0, y1 - y0]
        start = full.find(text, start + 1)
    return None


def _marks(info, content, cell: list[float]) -> dict[str, list[float]]:
    """Where a pen marks each option of a choice (□ printed after it: the □; none: the
    option's text) or a checkbox's □ (key "□"), mm."""
    if isinstance(content, LabelValue):
        box = _text_box(info, "□", cell)
        return {"□": box} if box else {}
    out = {}
    for option in content.text.replace("□", " ").split():
        box = _text_box(info, option, cell)
        if box is None:
            raise SystemExit(f"option {option!r} not found in the PDF's text")
        square = _text_box(info, option + "□", cell)
        if square is not None:
            box = _text_box(info, "□", [box[0] + box[2] - 0.2, cell[1], square[2], cell[3]])
        out[option] = box
    return out


def truth(form: ExternalForm, pdf: Path) -> dict:
    gray = _raster(pdf)
    origins = _table_origins(gray, form)
    text = _label_ends(pdf, form.paper[1])
    fields: dict[str, list[float]] = {}
    columns: dict[str, list[float]] = {}
    marks: dict[str, dict[str, list[float]]] = {}
    worst = 0.0
    for table, (ox, oy) in zip(form.tables, origins, strict=True):
        worst = max(worst, _check_lines(gray, form, table, ox, oy))
        y = oy
        for row in table.rows:
            x = ox
            for w, content in row.cells:
                if isinstance(content, Value | Options):
                    fields[content.key] = [x, y, w, row.height]
                elif isinstance(content, LabelValue):
                    label = re.sub(r"[\s□::]+$", "", content.text)
                    end = _label_end(text, label, y, row.height) + 0.5
                    fields[content.key] = [end, y, x + w - end, row.height]
                if isinstance(content, Options | LabelValue):
                    found = _marks(text, content, [x, y, w, row.height])
                    if found:
                        marks[content.key] = found
                elif isinstance(content, Header) and table.body_rows:
                    body = table.body_rows * table.body_height
                    columns[content.key] = [x, y + row.height, w, body]
                x += w
            y += row.height
    r = lambda v: [round(a, 2) for a in v]  # noqa: E731
    return {
        "code": form.code,
        "name": form.name,
        "paper_mm": list(form.paper),
        "fields": {k: r(v) for k, v in fields.items()},
        "columns": {k: r(v) for k, v in columns.items()},
        "marks": {k: {o: r(b) for o, b in v.items()} for k, v in marks.items()},
        "body_row_mm": form.tables[-1].body_height if columns else None,
        "line_error_mm": round(worst, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "external")
    ap.add_argument(
        "--truth-only", action="store_true", help="measure the PDFs already in --out again"
    )
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for form in FORMS:
            if args.truth_only:
                pdf = args.out / f"{form.name}.pdf"
            else:
                docx = Path(tmp) / f"{form.name}.docx"
                build_docx(form, docx)
                pdf = to_pdf(docx, Path(tmp))
            facts = truth(form, pdf)
            if not args.truth_only:
                shutil.copy(pdf, args.out / pdf.name)
            (args.out / f"{form.name}.json").write_text(
                json.dumps(facts, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            print(f"{form.name}: {len(facts['fields'])} fields, {len(facts['columns'])} columns, "
                  f"lines within {facts['line_error_mm']} mm, {pdf.stat().st_size // 1024} KB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
