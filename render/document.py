"""Rendering documents (blank or prefilled) into one PDF.

Each document gets an id; each of its pages (and each copy, 联) carries four fiducial
marks and a QR with that id, so a scan can be matched to what was printed.  The static
form is drawn once per PDF and reused; values and identity are stamped per page.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from formdesk.model.documents import IssuedDocument
from formdesk.templates.geometry import CORNER_ORDER, PageGeometry, Rect, gang_slots, marker_id
from formdesk.templates.identity import PageIdentity, encode, new_document_id, sign_issue
from formdesk.templates.layout import table_font_size, table_grid
from formdesk.templates.schema import FieldType, Template
from formdesk.templates.values.normalize import normalize_record

from .fill import stamp_cell, stamp_field
from .fit import ValueDoesNotFitError
from .frame import CONTINUATION, FIRST, draw_static
from .marks import draw_aruco, draw_qr
from .pen import Pen
from .placeholders import with_names

A4 = PageGeometry.for_paper("A4")
ISSUER_KEY = "FormdeskIssue"  # read back by ingest/pdf.py


@dataclass(frozen=True)
class PagePlan:
    variant: str  # FIRST or CONTINUATION
    rows: list[dict[str, Any]]  # the table rows on this page
    first_row: int  # 1-based number of the first of those rows


def plan_pages(template: Template, values: dict[str, Any]) -> list[PagePlan]:
    """Splits the table rows over a first page and as many continuation pages as needed."""
    if not template.table_fields:
        return [PagePlan(FIRST, [], 1)]
    table = template.table_fields[0]
    rows = values.get(table.key) or []
    first_cap = table.rows_per_page
    cont_cap = len(table_grid(template, table, template.continuation_rect(table)).rows)
    plans = [PagePlan(FIRST, rows[:first_cap], 1)]
    done = first_cap
    while done < len(rows):
        plans.append(PagePlan(CONTINUATION, rows[done : done + cont_cap], done + 1))
        done += cont_cap
    return plans


class PdfRenderer:
    """Collects documents into one PDF; written to a temporary file and renamed on close,
    so a failure never leaves a half-written PDF behind."""

    def __init__(self, out: Path, key: bytes, *, gang: bool = True):
        self.out = Path(out)
        self.key = key
        self.gang = gang
        fd, tmp = tempfile.mkstemp(prefix=".formdesk-", suffix=".pdf", dir=self.out.parent or ".")
        os.close(fd)
        self._tmp = Path(tmp)
        self.canvas = Canvas(str(self._tmp), pageCompression=1)
        self.canvas.setTitle("formdesk")
        self.canvas.setCreator("formdesk")
        self._forms: set[str] = set()
        self._sheet_template: str | None = None  # template of the gang sheet being filled
        self._slots: list[tuple[float, float]] = []
        self._next_slot = 0
        self._page_open = False
        self.documents: list[IssuedDocument] = []

    # -- public -------------------------------------------------------------------------
    def add(
        self,
        template: Template,
        values: dict[str, Any] | None = None,
        document_id: str | None = None,
    ) -> IssuedDocument:
        clean = normalize_record(template, values or {})
        plans = plan_pages(template, clean)
        copy_labels = template.copies or [None]
        doc = IssuedDocument(
            document_id=document_id or new_document_id(),
            template=template.code,
            template_version=template.version,
            pages=len(plans),
            copies=len(copy_labels),
            values=clean,
        )
        for copy_index, copy_label in enumerate(copy_labels, start=1):
            for page_no, plan in enumerate(plans, start=1):
                identity = PageIdentity(
                    template.code,
                    template.version,
                    doc.document_id,
                    page_no,
                    len(plans),
                    copy_index,
                )
                self._form_page(template, plan, identity, copy_label, clean)
        self.documents.append(doc)
        return doc

    def close(self) -> list[IssuedDocument]:
        if not self._page_open and not self.documents:
            self.canvas.showPage()  # an empty PDF still needs one page
        if self._page_open:
            self.canvas.showPage()
        if self.documents:
            ids = list(dict.fromkeys(d.document_id for d in self.documents))
            _sign_info(self.canvas, sign_issue(ids, self.key))
        self.canvas.save()
        os.replace(self._tmp, self.out)
        return self.documents

    def abort(self) -> None:
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> PdfRenderer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- pages ----------------------------------------------------------------------------
    def _place(self, template: Template) -> tuple[float, float, float, int]:
        """Starts a PDF page if needed; returns (x, y) offset in mm, sheet height, slot."""
        g = template.geometry
        ganged = self.gang and template.per_sheet > 1
        if ganged:
            if self._sheet_template != template.code or self._next_slot >= len(self._slots):
                self._new_page(A4.width, A4.height)
                self._sheet_template = template.code
                self._slots = gang_slots(g, A4)[: template.per_sheet]
                self._next_slot = 0
                self._cut_lines(g)
            slot = self._next_slot
            self._next_slot += 1
            x, y = self._slots[slot]
            return x, y, A4.height, slot
        self._new_page(g.width, g.height)
        self._sheet_template = None
        return 0.0, 0.0, g.height, 0

    def _new_page(self, w: float, h: float) -> None:
        if self._page_open:
            self.canvas.showPage()
        self.canvas.setPageSize((w * mm, h * mm))
        self._page_open = True

    def _cut_lines(self, g: PageGeometry) -> None:
        pen = Pen(self.canvas, A4.height)
        pen.c.setStrokeGray(0.6)
        for x, y in self._slots:
            pen.rect(Rect(x, y, g.width, g.height), width=0.2, dash=(2, 2))
        pen.c.setStrokeGray(0)

    def _form_page(
        self,
        template: Template,
        plan: PagePlan,
        identity: PageIdentity,
        copy_label: str | None,
        values: dict[str, Any],
    ) -> None:
        g = template.geometry
        ox, oy, sheet_h, slot = self._place(template)
        c = self.canvas
        c.saveState()
        c.translate(ox * mm, (sheet_h - oy - g.height) * mm)
        c.doForm(self._static_form(template, plan.variant, copy_label))
        pen = Pen(c, g.height)
        for corner in CORNER_ORDER:
            draw_aruco(pen, marker_id(slot, corner), g.mark_rect(corner))
        draw_qr(pen, encode(identity, self.key), g.qr_rect)
        f = g.footer_rect
        footer = f"文档号 {identity.document_id}   第 {identity.page} 页 / 共 {identity.pages} 页"
        pen.text(f.x + f.w / 2, f.bottom - 2.0, footer, 6.5 if g.is_small else 8, "center")
        self._stamp_values(pen, template, plan, values)
        c.restoreState()

    def _stamp_values(
        self, pen: Pen, template: Template, plan: PagePlan, values: dict[str, Any]
    ) -> None:
        if plan.variant == FIRST:
            for f in template.fields:
                if f.type != FieldType.table and f.key in values:
                    stamp_field(pen, template, f, values[f.key])
        if not template.table_fields:
            return
        table = template.table_fields[0]
        area = table.rect if plan.variant == FIRST else template.continuation_rect(table)
        grid = table_grid(template, table, area)
        size = table_font_size(template)
        for i, cells in enumerate(grid.rows):
            number = plan.first_row + i
            row = plan.rows[i] if i < len(plan.rows) else {}
            for col, cell in zip(table.columns, cells, strict=True):
                if col.type == FieldType.serial:
                    stamp_cell(pen, col, cell, number, number, size)
                elif col.key in row:
                    stamp_cell(pen, col, cell, row[col.key], number, size)

    def _static_form(self, template: Template, variant: str, copy_label: str | None) -> str:
        digest = hashlib.sha1(
            f"{template.code}|{template.version}|{variant}|{copy_label}".encode()
        ).hexdigest()
        name = f"fd{digest[:12]}"
        if name not in self._forms:
            g = template.geometry
            c = self.canvas
            c.beginForm(name, lowerx=0, lowery=0, upperx=g.width * mm, uppery=g.height * mm)
            draw_static(Pen(c, g.height), template, variant, copy_label)
            c.endForm()
            self._forms.add(name)
        return name


class _SignedInfo(pdfdoc.PDFInfo):
    """reportlab's document information dictionary plus formdesk's issue mark."""

    issue = ""

    def format(self, document):  # noqa: ANN001 - reportlab's signature
        text = super().format(document)
        entry = pdfdoc.PDFDictionary({ISSUER_KEY: pdfdoc.PDFString(self.issue)}).format(document)
        # both are `<< ... >>`: merge the one entry into reportlab's dictionary
        return text.rstrip()[:-2].rstrip() + b"\n" + entry.strip()[2:]


def _sign_info(canvas: Canvas, issue: str) -> None:
    """Puts the issue mark (templates/identity.py `sign_issue`) in the PDF's /Info."""
    info = _SignedInfo()
    info.__dict__.update(canvas._doc.info.__dict__)
    info.issue = issue
    canvas._doc.info = info


def render_pdf(
    template: Template,
    records: Iterable[dict[str, Any] | None],
    out: Path,
    key: bytes,
    *,
    copies: int = 1,
    gang: bool = True,
    on_document: Callable[[IssuedDocument], None] | None = None,
    names: Mapping[str, str] | None = None,
) -> list[IssuedDocument]:
    """Renders every record (None = a blank form) `copies` times into `out`; `names`
    (render.placeholders) printed instead of the seed's placeholders."""
    template = with_names(template, names)
    with PdfRenderer(out, key, gang=gang) as r:
        for values in records:
            for _ in range(copies):
                doc = r.add(template, values)
                if on_document:
                    on_document(doc)
    return r.documents


def render_documents(
    out: Path,
    key: bytes,
    template: Template,
    records: Sequence[dict[str, Any] | None],
    *,
    copies: int = 1,
    gang: bool = True,
    progress: Callable[[int], None] | None = None,
    names: Mapping[str, str] | None = None,
) -> list[IssuedDocument]:
    """Every record (None: a blank form) printed `copies` times into the PDF `out`, written
    whole or not at all; the documents printed, not yet registered (a service registers
    them: `services.printing`).  `progress(n)` is called after each record.

    Raises ValueDoesNotFitError (its `record` the 1-based record number) for a value that
    cannot be printed legibly, and whatever normalising a record raises (FieldValueError).
    `names` (company_name, service_center_name, station_name: render.placeholders) are
    printed instead of the seed's placeholders (XX公司, 某某公司, XX维修站…)."""
    template = with_names(template, names)
    with PdfRenderer(out, key, gang=gang) as renderer:
        for n, values in enumerate(records, start=1):
            try:
                for _ in range(copies):
                    renderer.add(template, values)
            except ValueDoesNotFitError as exc:
                exc.record = n
                raise
            if progress is not None:
                progress(n)
    return renderer.documents
