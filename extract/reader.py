"""From an uploaded file to checked records: pages -> forms -> fields -> one record per
document (a manifest's continuation pages are merged into its first page's record)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from formdesk.ingest import IngestLimits, PageImage, iter_pages
from formdesk.model.record import (
    FieldReading,
    FormRecord,
    LayoutRef,
    PageProblem,
    PageSource,
    ReadResult,
)
from formdesk.render.frame import CONTINUATION, FIRST
from formdesk.templates import Template, get_template
from formdesk.templates.catalog import UnknownTemplateError, load_catalog
from formdesk.templates.identity import PREFIX, PageIdentity
from formdesk.templates.schema import FieldType

from .align import PX_PER_MM, Alignment, rectify
from .beside import MIXED_SLOT, BesideForm, around_frame, frames_beside, page_forms
from .checks import apply_cross_checks, summarise_table
from .evidence import same_value
from .fields import ReadContext, read_field, read_table_rows
from .frames import ASPECT_TOLERANCE, FoundFrame, frame_shapes_match, place_name
from .ink import FormImage
from .lexicon import Lexicon
from .local_align import dewarp, page_mesh
from .locate import LocatedForm, locate_on_page, named_around, recognise_unmarked
from .marks import detect_marks
from .ocr import OcrEngine, default_engine
from .page_outline import PageOutlineError
from .printed import PrintedLookup, PrintedPage, printed_page
from .qr import read_qr_codes
from .reference import printed_mask
from .text_layer import TextLayer, trusted_documents
from .variants import (
    LayoutLookup,
    LayoutMismatch,
    RegisteredLayout,
    VariantPage,
    missing_fields,
    reference_aspects,
    turned_frame,
    upright_forms,
    variant_template,
)

log = logging.getLogger("formdesk.reader")


@dataclass
class _PageRead:
    located: LocatedForm
    source: PageSource
    from_text_layer: bool = False
    mirrored: bool = False
    fields: list[FieldReading] = field(default_factory=list)
    rows: list[dict[str, FieldReading]] = field(default_factory=list)
    layout: str | None = None  # the registered variant a page without marks was read as
    layout_sha256: str | None = None  # … and its reference image's SHA-256
    unplaced: list[str] = field(default_factory=list)  # its fields the variant does not place
    table_rows: int | None = None  # body rows of the variant's table (a page of one form)
    continued: bool = False  # a continuation page joined to the page before (join_continuations)
    by_shape: bool = False  # its form named by no title, only by the variant its frame aligns on


class FormReader:
    """Reads files of filled-in forms; holds the OCR engine so it is loaded once."""

    def __init__(
        self,
        key: bytes,
        engine: OcrEngine | None = None,
        limits: IngestLimits | None = None,
        printed: PrintedLookup | None = None,
        all_evidence: bool = False,
        lexicon: Lexicon | None = None,
        layouts: LayoutLookup | None = None,
    ):
        """`printed` gives the registry's values of a document printed here (None when
        unknown or blank): prefilled fields are then verified, not read (printed.py).
        `lexicon` holds the values the installation knows (stations, models, parts):
        a field with a vocabulary is read against it (lexicon.py).
        `all_evidence` gathers every kind of evidence for every field, needed or not
        (bench/calibrate.py fits the rules on it); slower.
        `layouts` gives a form's registered layout variants (issue 13): a page without
        marks whose printed title or code names a form with variants is read against the
        one that matches (variants.py) instead of being refused."""
        self.key = key
        self.layouts = layouts
        self.engine = engine or default_engine()
        self.limits = limits or IngestLimits()
        self.printed = printed
        self.all_evidence = all_evidence
        self.lexicon = lexicon

    def read_file(
        self,
        data: bytes,
        filename: str,
        on_page: Callable[[int], None] | None = None,
        forced: dict[int, tuple[str, int]] | None = None,
    ) -> ReadResult:
        """Every form of every page of the file.  `forced` maps a 0-based page to the
        (form code, form page) a person chose for it (`read_page`).  Raises IngestError
        (one clear reason) when the file itself is refused."""
        reads: list[_PageRead] = []
        problems: list[PageProblem] = []
        self._file_sha = hashlib.sha256(data).hexdigest()
        for page in iter_pages(data, filename, self.limits):
            got, problem = self.read_page(page, (forced or {}).get(page.index))
            reads.extend(got)
            if problem:
                problems.append(problem)
            if on_page:
                on_page(page.index)
        join_continuations(reads)
        return ReadResult(records=merge_documents(reads), problems=problems)

    def read_page(
        self, page: PageImage, forced: tuple[str, int] | None = None
    ) -> tuple[list[_PageRead], PageProblem | None]:
        """The forms on one page; a mirrored page (a phone's front camera) is flipped back
        first, and its forms say so.  `forced` (form code, form page): a person's choice
        for a page the reader could not identify — a form whose marks were found but
        whose QR and printed code could not be read is read as that form (identified_by
        "manual", a synthetic document id, and a problem asking for review); a page
        without marks still cannot be aligned and stays refused, saying so."""
        found = locate_on_page(page.image, self.key, self.engine)
        located = found.forms
        if found.mirrored:
            page = replace(page, image=found.image, chars=(), text_layer=False)
        trusted = trusted_documents(page, self.key)
        layer = TextLayer(page) if trusted else None
        if not located and forced is not None:
            return [], PageProblem(
                file=page.source,
                file_page=page.index,
                reason=(
                    f"已指定为 {forced[0]},但页面上没有找到定位标记,无法对齐;"
                    "不是本系统打印的表单暂时无法识读,请放弃这一页或重新扫描完整页面"
                ),
            )
        if not located:
            forms = page_forms(page.image)
            named = [_named_beside(f, self.engine) for f in forms] if len(forms) > 1 else []
            codes = {t.code for t in named if t is not None}
            owns: dict[int, bool] = {}  # form index -> shows formdesk's own print, once

            def own(i: int) -> bool:
                if i not in owns:
                    owns[i] = _own_print(_around(forms[i]))
                return owns[i]

            # forms of different kinds side by side, one whose title was not read among
            # named ones (it may be of another kind: read by its shape, or named unread),
            # forms lying each at its own angle (a desk photo), or one of formdesk's own
            # whose marks were lost among them: each as its own (the own one named, never
            # read as a print shop's layout)
            if named and (
                len(codes) > 1
                or (codes and None in named)
                or any(f.image is not page.image for f in forms)
                or any(own(i) for i in range(len(forms)))
            ):
                return self._read_mixed(page, forms, [], named, owns)
            known = (
                next(t for t in named if t is not None)
                if codes
                else recognise_unmarked(page.image, self.engine)
            )
            if len(forms) <= 1 and _own_print(page.image):
                what = f" {known.code} {known.title}" if known else "表单"
                return [], PageProblem(
                    file=page.source, file_page=page.index, reason=LOST_MARKS.format(what=what)
                )
            variants = self.layouts(known.code) if known and self.layouts else []
            if variants:
                try:
                    reads, reasons = self._read_variants(page, known, variants)
                except (LayoutMismatch, PageOutlineError) as exc:
                    if len(forms) == 1 and forms[0].image is not page.image:
                        # one form found turned among papers that are no form (a tag at
                        # 10 degrees beside receipts and notes on a desk): the page has no
                        # one outline, the form found is read where it lies
                        return self._read_mixed(page, forms, [], [known], owns)
                    reads, reasons = [], [str(exc)]
                return reads, _page_problem(page, reasons)
            reason = (
                (
                    f"看起来是 {known.code} {known.title},但没有找到定位标记,无法对齐;"
                    "请使用本系统打印的表单重新填写或扫描完整页面"
                )
                if known
                else "页面上没有找到表单(未检测到定位标记)"
            )
            return [], PageProblem(file=page.source, file_page=page.index, reason=reason)
        reads, reasons = [], []
        for form in located:
            if forced is not None and (form.template is None or form.identity is None):
                doc = manual_document_id(self._file_sha, page.index, form.slot)
                why = classify_by_hand(form, forced, doc)
                if why:
                    reasons.append(why)
                    continue
            if form.template is None or form.identity is None:
                reasons.append(f"未识别的表单:{form.problem or '无法确定是哪种表单'}")
                continue
            own_text = (
                layer is not None
                and form.identified_by == "qr"
                and form.authentic is True
                and form.identity.document_id in trusted
            )
            read = self._read_form(page, form, layer if own_text else None)
            read.mirrored = found.mirrored
            reads.append(read)
        if not found.mirrored:
            more, problem = self._read_mixed(page, frames_beside(page.image, located), reasons)
            reads.extend(more)
            return reads, problem
        return reads, _page_problem(page, reasons)

    def _read_form(self, page: PageImage, form: LocatedForm, layer: TextLayer | None) -> _PageRead:
        template: Template = form.template
        ident = form.identity
        variant = FIRST if ident.page == 1 else CONTINUATION
        copy_label = (
            template.copies[ident.copy - 1] if 0 < ident.copy <= len(template.copies) else None
        )
        grow = 3 + min(6, round(form.alignment.residual_mm * PX_PER_MM))
        mask = printed_mask(template.code, variant, copy_label, grow)
        flat_form = rectify(page.image, template.geometry, form.alignment)
        image = FormImage.build(flat_form, mask)
        mesh = (
            None if layer else page_mesh(image, printed_mask(template.code, variant, copy_label, 0))
        )
        if mesh is not None:  # bowed or folded: undo it before reading
            image = FormImage.build(dewarp(flat_form, mesh), mask)
        ctx = ReadContext(
            image,
            template,
            self.engine,
            ident.page,
            layer.text_at(form.alignment) if layer else None,
            self._printed_page(form, mask),
            grow,
            self.all_evidence,
            mesh,
            self.lexicon,
        )
        read = _PageRead(
            form,
            PageSource(
                file=page.source, file_page=page.index, slot=form.slot, form_page=ident.page
            ),
            from_text_layer=layer is not None,
        )
        if variant == FIRST:
            read.fields = [read_field(ctx, f) for f in template.fields if f.type != FieldType.table]
        for table in template.table_fields:
            area = table.rect if variant == FIRST else template.continuation_rect(table)
            read.rows = read_table_rows(ctx, table, area)
        return read

    def _read_mixed(
        self,
        page: PageImage,
        forms: list[BesideForm],
        reasons: list[str],
        named: list[Template | None] | None = None,
        owns: dict[int, bool] | None = None,
    ) -> tuple[list[_PageRead], PageProblem | None]:
        """Forms without marks found apart on the page — beside formdesk's own
        (`beside.frames_beside`), or of different kinds on a page without marks
        (`beside.page_forms`, each already identified in `named`) — each read as its own
        template's registered variant, or the Chinese reason it is not, naming where it
        lies; the page's problem holds those reasons after `reasons` (the page's own).
        `owns`: form index -> whether it shows formdesk's own print, where already looked
        at (`_own_print`), so it is not looked at twice."""
        reads = []
        for i, form in enumerate(forms):
            known = named[i] if named is not None else False
            read, why = self._read_beside_safely(page, form, known, (owns or {}).get(i))
            if read is not None:
                reads.append(read)
            if why:
                reasons.append(why)
        return reads, _page_problem(page, reasons)

    def _read_beside_safely(
        self,
        page: PageImage,
        beside: BesideForm,
        known: Template | None | bool = False,
        own: bool | None = None,
    ) -> tuple[_PageRead | None, str | None]:
        """`_read_beside`, an error there naming the form instead of failing the file (the
        other forms on the page are read all the same)."""
        try:
            return self._read_beside(page, beside, known, own)
        except Exception:  # noqa: BLE001 — one form beside must not cost the page its records
            log.exception("reading the form beside, slot %s, of %s", beside.slot, page.source)
            place = place_name(beside.frame, beside.image.shape)
            one = "的一张" if beside.slot >= MIXED_SLOT else "另有一张"
            return None, f"{place}{one}没有定位标记的表单,识读时出错,未识读;请把它单独扫描后上传"

    def _read_beside(
        self,
        page: PageImage,
        beside: BesideForm,
        known: Template | None | bool = False,
        own: bool | None = None,
    ) -> tuple[_PageRead | None, str | None]:
        """A form without marks beside formdesk's own forms on the page (beside.frames_beside):
        identified by the title printed around its frame and read as its registered variant
        (in its slot, after the located forms'), else the Chinese reason it was not read,
        naming where it lies.  One of formdesk's own forms whose marks were not all found
        (marks or its QR seen around the frame) is named as such, never read as a layout.
        `known`: the form's template (None: not identified) when already looked for; `own`:
        whether it shows formdesk's own print, when already looked at."""
        image, frame = beside.image, beside.frame
        place = place_name(frame, image.shape)
        # beside formdesk's own forms "another"; one of the forms of a page of several kinds
        one = "的一张" if beside.slot >= MIXED_SLOT else "另有一张"
        around, _origin = around_frame(image, beside.extent)
        if known is False:
            known = _named_beside(beside, self.engine)
        layouts = self.layouts(known.code) if known and self.layouts else []
        # a form laid partly off the bed, formdesk's own or not; a tag laid against the
        # bed's edge has its frame near it but whole: of its variant's shape, it is read
        # (its alignment then tells whether all of it is there, as variant_forms does)
        if frame.at_edge and not (
            len(beside.quads) <= 1 and _of_shape(frame, layouts, WHOLE_AT_EDGE)
        ):
            what = f" {known.code} " if known else "表单"
            return None, (
                f"{place}的一张{what}被图像边缘截断,未识读;请把它整张放在扫描范围内重新扫描"
            )
        if own is None:
            own = _own_print(around)
        if own:
            what = f" {known.code} " if known else "本系统打印的表单"
            return None, (
                f"{place}的一张{what}带有本系统的定位标记,但标记不全或无法识读,未能对齐,"
                "未识读;请把它平整、完整地单独扫描后上传"
            )
        if known is None:
            read = self._by_shape(page, beside)
            if read is not None:
                return read, None
            return None, (
                f"{place}{one}没有定位标记的表单,无法确定是哪种表单,未识读;请把它单独扫描后上传"
            )
        if not layouts:
            return None, (
                f"{place}{one} {known.code} {known.title},没有定位标记,也没有登记它的版式,"
                "未识读;请先登记这种版式,再单独扫描后上传"
            )
        aligned, why = turned_frame(image, known, layouts, frame)
        if aligned is None:
            return None, f"{place}的一张 {known.code}(没有定位标记):{why}"
        return self._read_variant(page, known, aligned, beside.slot, several=True), None

    def _by_shape(self, page: PageImage, beside: BesideForm) -> _PageRead | None:
        """A form beside others whose code and title were not read (a photo's small print,
        a tilted title) read as the registered variant its frame has the shape of and
        aligns on (`turned_frame`: its ruled lines must lie on the variant's, never read
        against boxes it does not lie on), catalog forms in order; the record then asks
        for review (BY_SHAPE).  None when no variant aligns."""
        if not self.layouts:
            return None
        for template in load_catalog().values():
            layouts = self.layouts(template.code)
            if not _of_shape(beside.frame, layouts):
                continue
            aligned, _why = turned_frame(beside.image, template, layouts, beside.frame)
            if aligned is not None:
                read = self._read_variant(page, template, aligned, beside.slot, several=True)
                read.by_shape = True
                return read
        return None

    def _read_variants(
        self, page: PageImage, template: Template, layouts: list[RegisteredLayout]
    ) -> tuple[list[_PageRead], list[str]]:
        """The forms of `template` on a page without marks, each read as the registered
        variant it matches (variants.upright_forms: the page, or each printed frame of an
        image holding a small form or several side by side, turned upright when it lies
        sideways or upside down), and the Chinese reasons of
        those not read (a form cut off at the image's edge, one not lying on its variant).
        LayoutMismatch or PageOutlineError when the page is one form that cannot be read."""
        placed, _turn = upright_forms(page.image, template, layouts)
        reads = [
            self._read_variant(page, template, p.page, p.slot, len(placed) > 1)
            for p in placed
            if p.page is not None
        ]
        return reads, [p.problem for p in placed if p.problem]

    def _read_variant(
        self,
        page: PageImage,
        template: Template,
        aligned: VariantPage,
        slot: int = 0,
        several: bool = False,
    ) -> _PageRead:
        """One form without marks read as the registered variant it was aligned on
        (variants.py): no document id (one is made from the file and page, EXT-…, and
        the form's slot when the page holds `several`), no signature."""
        fit = aligned.fit
        variant = fit.layout.variant
        form = variant_template(template, variant)
        grow, image, mesh = aligned.grow, aligned.form, aligned.mesh
        ctx = ReadContext(
            image, form, self.engine, 1, None, None, grow, self.all_evidence, mesh, self.lexicon
        )
        doc_id = f"EXT-{self._file_sha[:10]}-P{page.index + 1}" + (f"S{slot}" if several else "")
        located = LocatedForm(
            slot,
            template.geometry,
            Alignment(np.diag([PX_PER_MM, PX_PER_MM, 1.0]), fit.residual_mm, 0),
            form,
            PageIdentity(template.code, template.version, doc_id, 1, 1),
            authentic=None,
            identified_by="layout",
        )
        read = _PageRead(
            located,
            PageSource(file=page.source, file_page=page.index, slot=slot, form_page=1),
            layout=variant.name,
            layout_sha256=variant.reference_sha256,
            unplaced=missing_fields(template, variant),
            table_rows=variant.table.rows if variant.table is not None and not several else None,
        )
        read.fields = [read_field(ctx, f) for f in form.fields if f.type != FieldType.table]
        for table in form.table_fields:
            read.rows = read_table_rows(ctx, table, table.rect)
        return read

    def _printed_page(self, form: LocatedForm, mask) -> PrintedPage | None:
        """How the values of this document were printed, for a form whose QR is this
        installation's and whose document the registry knows with values."""
        ident = form.identity
        if self.printed is None or not form.authentic or form.identified_by != "qr":
            return None
        values = self.printed(ident.document_id)
        if not values:
            return None
        try:
            return printed_page(
                form.template, ident.document_id, values, ident.page, ident.copy, mask
            )
        except Exception:  # a registry entry that no longer renders: read it by OCR
            log.warning("打印值无法重现:%s", ident.document_id, exc_info=True)
            return None


MAX_FORM_PAGE = 20  # pages a form classified by hand may say it is
MANUAL_PROBLEM = "表单类型由人工指定(二维码和表单代码均未识别),请逐栏核对"


def manual_document_id(file_sha: str, page_index: int, slot: int) -> str:
    """The document id of a form a person classified by hand (it has no readable id):
    MANUAL-<first ten hex digits of the file's sha256>-P<page from 1>S<slot>."""
    return f"MANUAL-{file_sha[:10]}-P{page_index + 1}S{slot}"


def classify_by_hand(form: LocatedForm, forced: tuple[str, int], document_id: str) -> str | None:
    """Makes `form` (marks found, form not identified) the form a person chose: `forced`
    is (form code, form page).  None when done; else the Chinese reason it cannot be
    (an unknown code, a page the form has not, a form of another paper size than the
    marks say)."""
    code, form_page = forced
    try:
        template = get_template(code)
    except UnknownTemplateError:
        return f"没有表单 {code}"
    if template.geometry != form.geometry:
        return f"所选表单 {code} 与页面上定位标记的纸张大小不符,请重新选择"
    if not 1 <= form_page <= MAX_FORM_PAGE:
        return f"页码应在 1 到 {MAX_FORM_PAGE} 之间"
    form.template = template
    # the number of pages is not known: as many as the page says it is (page 2 of a form
    # then asks for its page 1 as missing, as it is)
    form.identity = PageIdentity(code, template.version, document_id, form_page, form_page)
    form.identified_by = "manual"
    form.authentic = None
    form.problem = MANUAL_PROBLEM
    return None


def join_continuations(reads: list[_PageRead]) -> None:
    """Pages of a form without marks that continue the page before (issue 13): a station's
    manifest of more lines than its Word form holds is written on two sheets or more.  A
    page read as a registered variant (the whole page one form) continues the page of the
    file before it when that page is of the same template and variant, its table is full
    (every body row the variant has is filled) and the page's own header is blank or
    repeats the first page's (`_continues`).  It then takes the first
    page's document id as its next page (its rows' cells on that page), so merge_documents
    makes one record of them; `reads` is changed in place.  Pages that differ in any filled
    header field stay records of their own (another manifest)."""
    first_of: dict[int, _PageRead] = {}  # id of a read -> the first page of its document
    chain: dict[int, list[_PageRead]] = {}  # id of a first page -> its pages
    prev: _PageRead | None = None
    for r in reads:
        if (
            prev is not None
            and r.layout is not None
            and r.table_rows is not None
            and prev.layout == r.layout
            and prev.table_rows is not None
            and len(prev.rows) >= prev.table_rows
            and prev.source.file == r.source.file
            and prev.source.file_page == r.source.file_page - 1
            and prev.located.identity.form_code == r.located.identity.form_code
        ):
            first = first_of.get(id(prev), prev)
            if _continues(r.fields, first.fields):
                pages = chain.setdefault(id(first), [first])
                n = len(pages) + 1
                r.located.identity = replace(first.located.identity, page=n)
                r.source = r.source.model_copy(update={"form_page": n})
                for row in r.rows:
                    for cell in row.values():
                        cell.page = n
                r.fields, r.continued = [], True
                pages.append(r)
                for page in pages:
                    page.located.identity = replace(page.located.identity, pages=n)
                first_of[id(r)] = first
        prev = r


# header fields that say nothing of which document a sheet belongs to: a signature, a seal
# or a tick may be made on the last sheet only
_UNSAID = frozenset({FieldType.signature, FieldType.seal, FieldType.checkbox})


def _continues(header: list[FieldReading], first: list[FieldReading]) -> bool:
    """Whether a sheet's `header` readings let it continue the document whose first page
    read `first` (the layout places header fields): its header is blank, or of the fields
    read on both (signatures, seals and ticks aside) at least half read the same and none
    reads otherwise with both readings ok.  (A header copied by hand is read unsure here
    and there; two manifests differ in fields read surely.)"""
    if not first:
        return False
    was = {f.key: f for f in first}
    same = compared = 0
    for f in header:
        if f.status == "empty" or FieldType(f.type) in _UNSAID or f.value is None:
            continue
        other = was.get(f.key)
        if other is None or other.value is None:
            return False  # written here only: not a copy of the first page's header
        compared += 1
        if same_value(f.value, other.value):
            same += 1
        elif f.status == "ok" and other.status == "ok":
            return False
    return compared == 0 or 2 * same >= compared


def merge_documents(reads: Iterable[_PageRead]) -> list[FormRecord]:
    """One record per (document, copy): fields from page 1, table rows from every page."""
    groups: dict[tuple[str, str, int], list[_PageRead]] = {}
    for r in reads:
        ident = r.located.identity
        groups.setdefault((ident.form_code, ident.document_id, ident.copy), []).append(r)
    records = []
    for (_, doc_id, copy), pages in groups.items():
        pages.sort(key=lambda r: r.located.identity.page)
        first = pages[0].located
        template = first.template
        total = first.identity.pages
        problems, notes = [], []
        seen = [p.located.identity.page for p in pages]
        missing = sorted(set(range(1, total + 1)) - set(seen))
        if missing:
            problems.append(f"缺少第 {'、'.join(map(str, missing))} 页(共 {total} 页)")
        if len(seen) != len(set(seen)):
            problems.append("同一页出现了多次")
        fields = next((p.fields for p in pages if p.located.identity.page == 1), [])
        for table in template.table_fields:
            rows = [row for p in pages for row in p.rows]
            fields.append(summarise_table(table, rows))
        fields = _in_template_order(template, fields)
        apply_cross_checks(template, fields)
        if any(p.mirrored for p in pages):
            notes.append("页面为镜像(如手机前置摄像头所拍),已翻转后识读")
        by = {p.located.identified_by for p in pages}
        how = "qr" if by == {"qr"} else "manual" if "manual" in by else "ocr"
        if "manual" in by:
            problems.append(MANUAL_PROBLEM)
        layout = None
        if "layout" in by:
            how = "layout"
            first_read = next(p for p in pages if p.layout)
            name = first_read.layout
            layout = LayoutRef(name=name, reference_sha256=first_read.layout_sha256 or "")
            notes.append(f"外部表单(版式“{name}”):不是本系统打印的表单,没有文档号和防伪签名可核验")
            if any(p.by_shape for p in pages):
                problems.append(BY_SHAPE.format(name=name, code=template.code))
            unplaced = next((p.unplaced for p in pages if p.unplaced), [])
            if unplaced:
                problems.append(f"版式“{name}”未标出:{'、'.join(unplaced)},请核对原件")
        if any(p.continued for p in pages):
            notes.append(
                f"外部表单续页:共 {total} 页,第 2 页起表头空白或与第 1 页相同、表格接续第 1 页,"
                "已合并为一份记录"
            )
        if all(p.from_text_layer for p in pages):
            how = "text_layer"
        records.append(
            FormRecord(
                template=template.code,
                template_version=first.identity.version,
                document_id=doc_id,
                copy_index=copy,
                identified_by=how,
                authentic=None
                if any(p.located.authentic is None for p in pages)
                else all(p.located.authentic for p in pages),
                residual_mm=round(max(p.located.alignment.residual_mm for p in pages), 3),
                pages=[p.source for p in pages],
                fields=fields,
                problems=problems,
                notes=notes,
                layout=layout,
            )
        )
    return records


def _in_template_order(template: Template, fields: list[FieldReading]) -> list[FieldReading]:
    order = {f.key: i for i, f in enumerate(template.fields)}
    return sorted(fields, key=lambda f: order.get(f.key, len(order)))


__all__ = ["FormReader", "merge_documents"]


def _page_problem(page: PageImage, reasons: list[str]) -> PageProblem | None:
    """The page's problem: its Chinese reasons joined with ';', None without any."""
    if not reasons:
        return None
    return PageProblem(file=page.source, file_page=page.index, reason=";".join(reasons))


BY_SHAPE = (
    "表单的编号和名称未能识读,按它的表格与已登记版式“{name}”吻合认定为 {code},请核对是否为这种表单"
)
LOST_MARKS = (
    "这一页是本系统打印的{what}(看到了它的定位标记或二维码),但定位标记不全或无法识读,未能对齐,"
    "未识读;请把它平整、完整地重新扫描后上传"
)


# how near a variant's frame shape (width over height) a frame reaching the image's edge
# must be to be taken whole: a tag laid against the bed's edge measures within 1–2 %; one
# hanging 8 % off the bed would pass frames.ASPECT_TOLERANCE (12 %)
WHOLE_AT_EDGE = 0.03


def _of_shape(
    frame: FoundFrame, layouts: list[RegisteredLayout], tolerance: float = ASPECT_TOLERANCE
) -> bool:
    """Whether `frame` has the shape of one of the `layouts`' reference frames, upright or
    laid sideways, within `tolerance` (relative, of width over height)."""
    return any(
        frame_shapes_match(frame, a, tolerance, sideways=True) for a in reference_aspects(layouts)
    )


def _around(form: BesideForm) -> np.ndarray:
    """The part of the image a form without marks prints on (`beside.around_frame`)."""
    return around_frame(form.image, form.extent)[0]


def _own_print(image: np.ndarray) -> bool:
    """Whether `image` (BGR, a form's part of a page) shows formdesk's own print: one of
    its ArUco marks, or a QR code of formdesk's payload (templates.identity.PREFIX; a
    supplier's or WeChat code printed on a station's tag is none)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if detect_marks(gray):
        return True
    return any(q.text.startswith(f"{PREFIX}|") for q in read_qr_codes(gray))


def _named_beside(form: BesideForm, engine: OcrEngine) -> Template | None:
    """The form a frame beside others belongs to, by the code or title printed nearest
    its frames (locate.named_around: a neighbour's title may lie within the part of the
    image looked at)."""
    around, (x0, y0) = around_frame(form.image, form.extent)
    quads = form.quads or (form.frame.quad,)
    return named_around(around, tuple(q - (x0, y0) for q in quads), engine)
