"""What reading produces: per-field values with raw text, confidence and a status, and
per-form records that are ready or need review."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

FieldStatus = Literal["ok", "check", "empty", "invalid"]
RecordStatus = Literal["ready", "needs_review"]


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


class FormRecord(BaseModel):
    template: str
    template_version: int
    document_id: str
    copy_index: int = 1  # 联
    identified_by: Literal["qr", "ocr", "text_layer"]
    authentic: bool | None  # the QR was signed by this installation
    residual_mm: float  # alignment residual of the worst page
    pages: list[PageSource]
    fields: list[FieldReading]
    problems: list[str] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list
    )  # Chinese; facts for the reviewer, no review needed
    filing: Filing = Field(default_factory=Filing)  # set when stored, not when read

    @property
    def status(self) -> RecordStatus:
        if self.problems or self.authentic is False:
            return "needs_review"
        if any(f.status in ("check", "invalid") for f in self.fields):
            return "needs_review"
        if any(
            f.status == "empty" and f.reason for f in self.fields
        ):  # a required field left empty
            return "needs_review"
        return "ready"

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
