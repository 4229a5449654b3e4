"""Read records as the API shows and changes them (issue 11): finding them with the list's
filters, a record's detail (readings marked for review, corrections, later scans), its
aligned page and field crops as PNG, corrections of a field (checked against the
template, kept as an audit trail), verification, and the original scan file.

Every function takes the store as an opaque handle and the asking user as a `Viewer`:
a record, scan or field the viewer may not see is NotFoundError (404, ``找不到这条记录``),
exactly as if it did not exist.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import BaseModel, Field

from formdesk.extract.ocr import OcrEngine
from formdesk.extract.page_outline import PageOutlineError
from formdesk.extract.variants import LayoutMismatch, RegisteredLayout
from formdesk.extract.views import aligned_form, crop_mm, raw_page, variant_form
from formdesk.ingest import IngestError, sniff
from formdesk.model.errors import ConflictError, NotFoundError
from formdesk.model.layouts import LayoutVariant
from formdesk.model.record import needs_check
from formdesk.model.stored import Correction, RecordEvent, RecordSummary, StoredRecord
from formdesk.store import Store
from formdesk.store.summary import record_reasons, same_value
from formdesk.templates import get_template
from formdesk.templates.values.normalize import correction_value

from .refusals import Refused
from .viewers import Viewer

MAX_NAMED = 500  # files a 文件名 filter may match; more is refused, asking for more of the name


def not_found(what: str) -> NotFoundError:
    """NotFoundError (404) ``找不到{what}``: also what a station user gets for another
    station's things, which do not exist for it."""
    return NotFoundError(f"找不到{what}")


# -- finding records ---------------------------------------------------------------------------


class RecordQuery(BaseModel):
    """The record filters (the API reads them from the query string; the exports use
    them too): template code, station code, status (voided: only 作废 records, which no
    other listing shows), scan dates (inclusive), free text `q`, order (newest first, or
    least confident first: the review queue), one page (`offset`, `limit` ≤ 500),
    `duplicates` to list second scans of a stored document (重复扫描) too, and the upload
    (`batch`) or file name (`file`, any part of it) the records were read from."""

    template: str | None = None
    station: str | None = None
    status: Literal["ready", "needs_review", "verified", "voided"] | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    order: Literal["newest", "least_confident"] = "newest"
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=500)
    duplicates: bool = False  # also list second scans of a stored document (重复扫描)
    batch: str | None = None  # only records read from the files of this upload (批次)
    file: str | None = Field(None, max_length=200)  # only from files whose name holds this


def find_records(store: Store, who: Viewer, query: RecordQuery) -> tuple[list[RecordSummary], int]:
    """One page of the summaries matching `query` that `who` sees (a station user only its
    own station's, whatever `query.station` says) and how many match in all; each summary
    carries its `reasons` (复核原因).  The store's errors propagate."""
    station = who.station_filter or query.station
    scan_ids = scans_of(store, who, query.batch, query.file)
    if scan_ids == []:
        return [], 0
    return store.list_records(
        template=query.template,
        station=station,
        status=query.status,
        date_from=query.date_from,
        date_to=query.date_to,
        text=query.q,
        order=query.order,
        offset=query.offset,
        limit=query.limit,
        # 作废 lists every voided record, a voided second scan (重复扫描) too
        duplicates=query.duplicates or query.status == "voided",
        scan_ids=scan_ids,
    )


def scans_of(store: Store, who: Viewer, batch: str | None, file: str | None) -> list[str] | None:
    """The scans a listing is limited to: those of upload `batch` (NotFoundError, 404, if
    `who` does not see it) and of files named with `file` (a station user: its own
    uploads' names), both when both are given; None when neither is.  Refused (422) when
    more than MAX_NAMED files match the name (never a silently shortened list)."""
    out: list[str] | None = None
    if batch:
        found = store.get_batch(batch)
        if found is None or not who.sees(found.station):
            raise not_found("这个批次")
        out = list(dict.fromkeys(found.scan_ids))
    if file and file.strip():
        named = [s.sha256 for s in store.find_scans(file, who.station_filter, limit=MAX_NAMED + 1)]
        if len(named) > MAX_NAMED:
            raise Refused(
                f"文件名含“{file.strip()[:40]}”的文件超过 {MAX_NAMED} 个,请输入更完整的文件名"
                "(或按批次、日期筛选)"
            )
        out = named if out is None else [s for s in out if s in set(named)]
    return out


def visible_record(store: Store, who: Viewer, record_id: str) -> StoredRecord:
    """The record if `who` may see it, perhaps marked damaged (`damaged` the Chinese
    reason, `record` {}); NotFoundError (404, ``找不到这条记录``) otherwise."""
    stored = store.get_record(record_id)
    if stored is None or not who.sees(stored.summary.station):
        raise not_found("这条记录")
    return stored


def usable_record(
    store: Store, who: Viewer, record_id: str, *, refused: str = "不能这样操作"
) -> StoredRecord:
    """As `visible_record`, and ConflictError (409, ``这条记录的识读结果无法读取(<why>),
    不能这样操作``, the last clause `refused`) when its file is damaged."""
    stored = visible_record(store, who, record_id)
    if stored.damaged:
        raise ConflictError(f"这条记录的识读结果无法读取({stored.damaged}),{refused}")
    return stored


# -- a record's detail ---------------------------------------------------------------------------


def _marked(reading: dict[str, Any]) -> dict[str, Any]:
    """A reading dict (and its table cells) with `needs_check` as the model decides it."""
    out = {**reading, "needs_check": needs_check(reading.get("status"), reading.get("reason"))}
    if reading.get("rows") is not None:
        out["rows"] = [{k: _marked(c) for k, c in row.items()} for row in reading["rows"]]
    return out


def with_review_rules(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of the stored record dict with every reading's `needs_check` as the model
    decides it (`formdesk.model.record.needs_check`), so the review page applies no rule
    of its own; {} (a damaged record) stays {}."""
    if not record:
        return record
    return {**record, "fields": [_marked(f) for f in record.get("fields", [])]}


class ReviewEntry(Correction):
    """A line of a record's review trail: a stored Correction and its `kind`, "corrected"
    (the value changed: 更正) or "confirmed" (the reviewer kept the reader's value:
    确认原值, not a correction) — store.summary.same_value (issue 12, point 4)."""

    kind: Literal["corrected", "confirmed"] = "corrected"

    @classmethod
    def of(cls, c: Correction) -> ReviewEntry:
        """`c` with its kind."""
        kind = "confirmed" if same_value(c.old_value, c.new_value) else "corrected"
        return cls(**c.model_dump(), kind=kind)


class RecordDetail(BaseModel):
    """A record as the review page shows it: its summary, the record dict with every
    reading marked `needs_check` ({} when damaged), its corrections (oldest first), the
    form's page size in mm (`width`, `height`: for drawing field boxes over the page
    image), why its file cannot be read (Chinese, or None), its review reasons, and the
    ids of the later scans linked to it (重复扫描, oldest first)."""

    summary: RecordSummary
    record: dict[str, Any]  # {} when damaged
    corrections: list[ReviewEntry]  # changes and confirmations, oldest first
    page: dict[str, float]  # form size in mm, for drawing field boxes over the page image
    damaged: str | None = None  # why the record's file cannot be read (Chinese)
    reasons: list[str] = Field(default_factory=list)  # store.summary.record_reasons
    # ids of the later scans linked to this record (重复扫描)
    duplicates: list[str] = Field(default_factory=list)
    # people's actions on the whole record (作废, 恢复, 撤销确认, 设置维修站), oldest first
    events: list[RecordEvent] = Field(default_factory=list)
    # the uploads (batch ids) that brought its scan, those the viewer sees, newest first
    batches: list[str] = Field(default_factory=list)
    # a 外部表单 whose layout variant is gone: the page image is the scan as uploaded,
    # not aligned, and no field box lies on it (Chinese; None otherwise)
    page_note: str | None = None


def _rescans_of(store: Store, who: Viewer, summary: RecordSummary) -> list[str]:
    """The records linked to `summary` as its second scans (oldest first), those `who` sees."""
    rows, _ = store.list_records(text=summary.document_id, limit=500, duplicates=True)
    return [
        r.record_id
        for r in sorted(rows, key=lambda r: r.created_at)
        if r.duplicate_of == summary.record_id and who.sees(r.station)
    ]


def record_detail(store: Store, who: Viewer, record_id: str) -> RecordDetail:
    """The detail of a record `who` sees (a damaged one too: `damaged` set, no reasons);
    NotFoundError (404, ``找不到这条记录``) otherwise."""
    stored = visible_record(store, who, record_id)
    g = get_template(stored.summary.template).geometry
    return RecordDetail(
        summary=stored.summary,
        record=with_review_rules(stored.record),
        corrections=[ReviewEntry.of(c) for c in store.list_corrections(record_id)],
        page={"width": g.width, "height": g.height},
        damaged=stored.damaged,
        reasons=record_reasons(stored.record) if not stored.damaged else [],
        duplicates=_rescans_of(store, who, stored.summary),
        events=store.list_record_events(record_id),
        batches=[
            b.batch_id
            for b in store.list_batches(station=who.station_filter, scan_id=stored.summary.scan_id)
        ],
        page_note=(
            layout_of(store, stored.record)[1]
            if not stored.damaged and stored.record.get("identified_by") == "layout"
            else None
        ),
    )


# -- page images -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageImages:
    """What drawing a record's aligned page takes: the installation's signing `key`
    (to find the form's code on the scan), the OCR `engine` (None: codes only), and a
    `cache` of page views shared between requests, keyed (scan sha256, file page,
    document id and, for a 外部表单, the variant's reference SHA-256 or "raw"), each
    (image, note), holding at most 17 (the oldest dropped first)."""

    key: bytes
    engine: OcrEngine | None
    cache: MutableMapping[tuple[str, int, str], tuple[np.ndarray, str | None]]

    def view(
        self, store: Store, stored: StoredRecord, form_page: int
    ) -> tuple[np.ndarray, str | None]:
        """Form page `form_page` (from 1) of the record and a note: the page warped flat
        (BGR, 200 dpi, the form's paper size) and None; for a 外部表单 (identified_by
        "layout") it is aligned on the variant's reference image as the reader aligned it
        (extract.variants.variant_page), and when that variant was since removed or
        registered anew (or the page no longer aligns on it), the page as uploaded (BGR,
        its own size) with the Chinese note saying so.
        NotFoundError (404, ``找不到这一页``) for a page the record has not;
        ConflictError (409, ``扫描件中找不到这份表单了``) when the scan no longer shows it."""
        summary = stored.summary
        pages = stored.record.get("pages", [])
        source = next((p for p in pages if p.get("form_page", 1) == form_page), None)
        if source is None:
            raise not_found("这一页")
        external = stored.record.get("identified_by") == "layout"
        variant, note = layout_of(store, stored.record) if external else (None, None)
        tag = (variant.reference_sha256 if variant else "raw") if external else ""
        key = (summary.scan_id, source["file_page"], f"{summary.document_id}@{tag}")
        cache = self.cache
        if key not in cache:
            scan = store.get_scan(summary.scan_id)
            data = store.scan_bytes(summary.scan_id)
            if not external:
                image = aligned_form(
                    data, scan.filename, source["file_page"], summary.document_id,
                    self.key, self.engine,
                )  # fmt: skip
            else:
                image, note = _external_view(
                    store, stored, variant, note, data, scan.filename, source["file_page"],
                    source.get("slot", 0), self.key, self.engine,
                )  # fmt: skip
            if image is None:
                raise ConflictError("扫描件中找不到这份表单了")
            if len(cache) > 16:
                cache.pop(next(iter(cache)))
            cache[key] = (image, note)
        return cache[key]

    def aligned(self, store: Store, stored: StoredRecord, form_page: int) -> np.ndarray:
        """`view`'s image when it is the aligned page (field boxes in mm lie on it);
        ConflictError (409, the note and ``无法截取栏目图像``) when only the page as
        uploaded can be shown (a 外部表单 whose variant is gone)."""
        image, note = self.view(store, stored, form_page)
        if note:
            raise ConflictError(f"{note};无法截取栏目图像")
        return image


NOTE_PREFIX = re.compile(r"外部表单\(版式“(.+?)”\)")


def layout_of(store: Store, record: dict[str, Any]) -> tuple[LayoutVariant | None, str | None]:
    """For a 外部表单 record: the variant it was read against, while it is registered as
    it was (same name, same reference image), and None; else None and the Chinese note
    the review page shows (the variant removed or registered anew).  A record read
    before records kept their variant (`layout`) names it in its notes only."""
    ref = record.get("layout") or {}
    name = ref.get("name")
    if not name:
        hit = next((m for n in record.get("notes", []) if (m := NOTE_PREFIX.search(n))), None)
        name = hit.group(1) if hit else None
    variant = store.get_layout(record["template"], name) if name else None
    sha = ref.get("reference_sha256")
    if variant is not None and (not sha or variant.reference_sha256 == sha):
        return variant, None
    what = "已删除" if variant is None else "已重新登记,与读出时的不同"
    return None, (
        f"这份外部表单按版式“{name or '?'}”读出,该版式{what},无法再按版式拉正:"
        "下图为原始扫描页,未标出栏目位置"
    )


def _external_view(
    store: Store,
    stored: StoredRecord,
    variant: LayoutVariant | None,
    note: str | None,
    data: bytes,
    filename: str,
    file_page: int,
    slot: int = 0,
    key: bytes | None = None,
    engine: OcrEngine | None = None,
) -> tuple[np.ndarray | None, str | None]:
    """A 外部表单's page (the form of `slot` on a page of several, or beside formdesk's own
    forms, found with the installation's `key`) aligned on `variant` (None: the page as
    uploaded, with `note`); a form that no longer aligns on it is shown as the page
    uploaded, with a note saying why."""
    if variant is not None:
        png = store.layout_reference(variant.reference_sha256)
        reference = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
        if reference is not None:
            try:
                return variant_form(
                    data, filename, file_page, stored.summary.template,
                    RegisteredLayout(variant, reference), slot=slot, key=key, engine=engine,
                ), None  # fmt: skip
            except (LayoutMismatch, PageOutlineError) as exc:
                why = str(exc)
        else:
            why = "版式的参考图像已损坏"
        note = (
            f"这份外部表单无法再与版式“{variant.name}”对齐({why}):下图为原始扫描页,未标出栏目位置"
        )
    return raw_page(data, filename, file_page), note


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    return buf.tobytes()


def page_png(store: Store, who: Viewer, record_id: str, page: int, images: PageImages) -> bytes:
    """The PNG of form page `page` (from 1) of a record `who` sees, aligned (200 dpi);
    for a 外部表单 whose variant is gone, the page as uploaded (`PageImages.view`; the
    record's `page_note` says so).  NotFoundError (404: the record, ``找不到这一页``), ConflictError (409: its file is
    damaged, or the scan no longer shows the form)."""
    stored = usable_record(store, who, record_id)
    return _png(images.view(store, stored, page)[0])


def row_box(cells: dict[str, Any]) -> tuple[list[float], int]:
    """The box [x, y, width, height] in mm around a table row's cells (those on its first
    cell's page) and that page: a manifest line is evidence as a whole, claim number to
    remarks.  NotFoundError (404, ``找不到这一行``) when no cell has a box."""
    boxed = [c for c in cells.values() if c.get("box")]
    if not boxed:
        raise not_found("这一行")
    page = boxed[0].get("page", 1)
    boxes = [c["box"] for c in boxed if c.get("page", 1) == page]
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return [x0, y0, x1 - x0, y1 - y0], page


def crop_png(
    store: Store,
    who: Viewer,
    record_id: str,
    field_key: str,
    images: PageImages,
    *,
    row: int | None = None,
    column: str | None = None,
) -> bytes:
    """The PNG of one field's box on the aligned page of a record `who` sees (1 mm
    margin); with `row` (from 1) and `column`, one table cell; with `row` alone, the
    whole table row (`row_box`).  NotFoundError (404): the record, ``找不到这一栏``,
    ``找不到这一行`` (also for a column without a row), ``找不到这个单元格``,
    ``找不到这一页``; ConflictError (409) as `page_png`."""
    stored = usable_record(store, who, record_id)
    field = next((f for f in stored.record["fields"] if f["key"] == field_key), None)
    if field is None:
        raise not_found("这一栏")
    box, page = field["box"], field.get("page", 1)
    if row is not None or column is not None:
        rows = field.get("rows") or []
        if row is None or row > len(rows):
            raise not_found("这一行")
        if column is None:
            box, page = row_box(rows[row - 1])
        elif column not in rows[row - 1]:
            raise not_found("这个单元格")
        else:
            cell = rows[row - 1][column]
            box, page = cell["box"], cell.get("page", 1)
    return _png(crop_mm(images.aligned(store, stored, page), box))


# -- corrections and verification --------------------------------------------------------------


class CorrectionResult(ReviewEntry):
    """A correction as stored, and the reading as it now is (with `needs_check`; {} if it
    cannot be found again)."""

    reading: dict[str, Any] = Field(default_factory=dict)


def _reading_after(
    store: Store, record_id: str, key: str, row: int | None, column: str | None
) -> dict[str, Any]:
    """The corrected reading as stored, marked (`_marked`); {} if it cannot be found (the
    correction is saved either way, so this never fails the answer)."""
    stored = store.get_record(record_id)
    field = next((f for f in (stored.record if stored else {}).get("fields", [])
                  if f.get("key") == key), None)  # fmt: skip
    if field is None:
        return {}
    if row is not None and column is not None and field.get("rows") is not None:
        rows = field["rows"]
        cell = rows[row - 1].get(column) if 1 <= row <= len(rows) else None
        return _marked(cell) if cell is not None else {}
    return _marked(field)


def correct_field(
    store: Store,
    who: Viewer,
    record_id: str,
    key: str,
    value: Any,
    *,
    row: int | None = None,
    column: str | None = None,
) -> CorrectionResult:
    """Sets field `key` (a table cell: `row` from 1 and `column`) of a record `who` sees
    to `value`, checked and normalised by the field's type (`correction_value`; 签字/盖章
    a presence flag only; None or "" clears it), recorded as a Correction by
    `who.username` (an audit trail never rewritten).

    NotFoundError (404): the record, ``找不到这一栏``, ``找不到这一列``; ConflictError
    (409) when its file is damaged; Refused (422): ``<栏目名>:<why>`` for a value the
    field does not take, or the store's reason for a row or column the record has not."""
    stored = usable_record(store, who, record_id)
    if stored.summary.status == "voided":
        raise ConflictError("这条记录已作废,请先恢复")
    template = get_template(stored.summary.template)
    try:
        spec = template.field(key)
    except KeyError:
        raise not_found("这一栏") from None
    if column is not None:
        spec = next((c for c in spec.columns if c.key == column), None)
        if spec is None:
            raise not_found("这一列")
    if value is not None and value != "":  # empty clears the field
        try:  # 签字/盖章: a presence flag only (correction_value)
            value = correction_value(spec, value)
        except ValueError as exc:
            raise Refused(f"{spec.label}:{exc}") from None
    try:
        done = store.correct_field(record_id, key, value, who.username, row=row, column=column)
    except ValueError as exc:  # a table row or column the record does not have
        raise Refused(str(exc)) from None
    return CorrectionResult(
        **ReviewEntry.of(done).model_dump(),
        reading=_reading_after(store, record_id, key, row, column),
    )


def verify_record(store: Store, who: Viewer, record_id: str) -> RecordSummary:
    """Marks a record `who` sees verified by `who.username` (复核完成; a later correction
    clears it); its summary as now stored.  NotFoundError (404), ConflictError (409) when
    its file is damaged."""
    usable_record(store, who, record_id)
    return store.verify_record(record_id, who.username)


# -- the original scan ---------------------------------------------------------------------------


SNIFFED_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "tiff": "image/tiff",
}


def sniffed_media_type(data: bytes) -> str:
    """The media type of a stored scan found from its bytes (ingest.sniff: PDF, JPEG,
    PNG, TIFF), never from what the uploader declared; else application/octet-stream."""
    try:
        return SNIFFED_TYPES[sniff(data)]
    except (IngestError, KeyError):
        return "application/octet-stream"


@dataclass(frozen=True)
class ScanFile:
    """An uploaded file as handed back: its bytes as stored, the media type found from
    them (`sniffed_media_type`) and the file name to offer (the viewer's own upload's
    name for a station user, else the first upload's)."""

    data: bytes
    media_type: str
    filename: str


def original_scan(store: Store, who: Viewer, sha256: str) -> ScanFile:
    """The uploaded file `sha256` if one of its uploads is of a station `who` sees;
    NotFoundError (404, ``找不到这个扫描件``) otherwise."""
    scan = store.get_scan(sha256)
    if scan is None or not any(who.sees(s) for s in scan.stations()):
        raise not_found("这个扫描件")
    mine = scan.owner(who.station_filter) if who.role == "station" else None
    data = store.scan_bytes(sha256)
    return ScanFile(data, sniffed_media_type(data), mine.filename if mine else scan.filename)
