"""What reading produces: per-field values with raw text, confidence and a status, and
per-form records that are ready or need review.

The rules of review live here and only here: which reading a person must look at
(`needs_check`), how many of a record's fields that makes (`FormRecord.fields_to_check`)
and whether the record is ready (`FormRecord.status`).  The store's summaries and the
review page (the API adds `needs_check` to every reading it answers with) take them
from here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

FieldStatus = Literal["ok", "check", "empty", "invalid"]
RecordStatus = Literal["ready", "needs_review"]
# how bad a status is, worst last: a table takes its worst cell's (extract/checks.py)
STATUS_RANK = {"ok": 0, "empty": 0, "check": 1, "invalid": 2}


def needs_check(status: str | None, reason: str | None) -> bool:
    """Whether a person must look at a reading: the reader doubted it (check) or could
    not accept it (invalid), or a required field was left empty (empty with a reason)."""
    return status in ("check", "invalid") or (status == "empty" and bool(reason))


class FieldReading(BaseModel):
    key: str
    label: str
    type: str
    value: Any = None
    raw: str = ""  # what the OCR (or the ink measure) said, before checking
    confidence: float = 0.0
    status: FieldStatus
    reason: str | None = None  # Chinese, for the reviewer, when status is check/invalid
    box: list[float] = Field(default_factory=list)  # [x, y, w, h] mm on the form page
    page: int = 1
    rows: list[dict[str, FieldReading]] | None = None  # tables: one dict of cells per row
    # what made the status, e.g. ["ocr:0.97", "agree", "checksum"] (see extract/evidence.py)
    evidence: list[str] = Field(default_factory=list)
    # a person's review of this value (issue 12): "corrected" (they changed it, 已更正) or
    # "confirmed" (they kept the reader's value, 已确认), by whom and when (UTC ISO 8601);
    # None: as the reader left it.  A reviewed value never counts as "ok by reader".
    reviewed: Literal["corrected", "confirmed"] | None = None
    reviewed_by: str | None = None
    reviewed_at: str | None = None

    @property
    def needs_check(self) -> bool:
        """A person must look at this reading (`needs_check`).  Not stored: the API adds
        it to the readings it answers with (api/routes/records.py)."""
        return needs_check(self.status, self.reason)

    def summarise_rows(self) -> None:
        """A table's own value, status, confidence and reason again from its cells (in
        place): the rows' values, the worst cell status, the least confidence, and the
        first six doubtful cells named (第n行 label).  Used when read and when corrected."""
        rows = self.rows or []
        cells = [c for row in rows for c in row.values()]
        worst = max((c.status for c in cells), key=STATUS_RANK.__getitem__, default="empty")
        self.status = "empty" if not rows else ("ok" if worst == "empty" else worst)
        self.value = [
            {k: c.value for k, c in row.items() if c.value is not None} for row in rows
        ] or None
        self.confidence = min((c.confidence for c in cells), default=1.0)
        bad = [
            f"第{i}行{c.label}"
            for i, row in enumerate(rows, 1)
            for c in row.values()
            if c.status in ("check", "invalid")
        ]
        self.reason = (
            ("请核对:" + "、".join(bad[:6]) + ("…" if len(bad) > 6 else "")) if bad else None
        )

    def cells_to_check(self) -> int:
        """A table's cells a person must look at, one by one; else 1 or 0 for the field."""
        cells = sum(c.needs_check for row in self.rows or [] for c in row.values())
        return cells if cells else int(self.needs_check)


class PageSource(BaseModel):
    file: str
    file_page: int  # 0-based page of the uploaded file
    slot: int = 0  # which form of a gang sheet
    form_page: int = 1  # page n of the document


class Filing(BaseModel):
    """What filing found about a record's identity (store/placing.py), never the reader:
    the registry's answer to an id read by OCR, and the link to another scan of the same
    document and copy (duplicate_of: the first scan's record id) or to other paper bearing
    the same id (photocopy_of: record ids). `notes` are Chinese and need no review."""

    ocr_document_id: str | None = None  # the id as OCR read it, when the registry's replaced it
    duplicate_of: str | None = None
    photocopy_of: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class LayoutRef(BaseModel):
    """The registered layout variant a 外部表单 was read against (issue 13): the variant's
    name and its reference image's SHA-256 (the review page aligns the page on that
    reference again; a variant since removed or registered anew no longer matches)."""

    name: str
    reference_sha256: str


class FormRecord(BaseModel):
    template: str
    template_version: int
    document_id: str
    copy_index: int = 1  # 联
    # manual: a person chose the form for a page the reader could not identify (issue 12)
    # layout: a page without marks read as a registered layout variant (issue 13): 外部表单
    identified_by: Literal["qr", "ocr", "text_layer", "manual", "layout"]
    authentic: bool | None  # the QR was signed by this installation
    residual_mm: float  # alignment residual of the worst page
    pages: list[PageSource]
    fields: list[FieldReading]
    problems: list[str] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list
    )  # Chinese; facts for the reviewer, no review needed
    filing: Filing = Field(default_factory=Filing)  # set when stored, not when read
    layout: LayoutRef | None = None  # identified_by "layout": the variant read against

    @property
    def status(self) -> RecordStatus:
        """needs_review when the record has a problem, its QR was not signed here, or a
        field needs a look (`needs_check`); else ready."""
        if self.problems or self.authentic is False:
            return "needs_review"
        if any(f.needs_check for f in self.fields):
            return "needs_review"
        return "ready"

    def fields_to_check(self) -> int:
        """Fields a reviewer should look at; a table counts its doubtful cells one by one."""
        return sum(f.cells_to_check() for f in self.fields)

    def values(self) -> dict[str, Any]:
        return {f.key: f.value for f in self.fields if f.value is not None}

    def field(self, key: str) -> FieldReading:
        return next(f for f in self.fields if f.key == key)


class PageProblem(BaseModel):
    file: str
    file_page: int
    reason: str  # Chinese: no form found, unknown form, ...


class ReadResult(BaseModel):
    records: list[FormRecord] = Field(default_factory=list)
    problems: list[PageProblem] = Field(default_factory=list)
